import { mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "./clock.ts";

const HEAP_PROBE = fileURLToPath(new URL("./heap-probe.mjs", import.meta.url));

/**
 * What a Node service holds after a full garbage collection, asked through heap-probe.mjs
 * (preloaded into the services of a deployment started with `env()` in their environment).
 */
export class HeapProbe {
  private readonly dir = mkdtempSync(join(tmpdir(), "bench-heap-"));

  /** Environment of a service that answers the probe. */
  env(): { NODE_OPTIONS: string; BENCH_HEAP_DIR: string } {
    return { NODE_OPTIONS: `--expose-gc --import ${HEAP_PROBE}`, BENCH_HEAP_DIR: this.dir };
  }

  /** Collects garbage in process `pid` and returns its memory usage right after. */
  async afterFullGc(pid: number, timeoutMs = 10_000): Promise<NodeJS.MemoryUsage> {
    const file = join(this.dir, `${pid}.json`);
    rmSync(file, { force: true });
    process.kill(pid, "SIGUSR2");
    let usage: NodeJS.MemoryUsage | undefined;
    await waitUntil(
      async () => {
        try {
          usage = JSON.parse(readFileSync(file, "utf8")) as NodeJS.MemoryUsage;
          unlinkSync(file);
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      () => `process ${pid} did not answer the heap probe (was it started with HeapProbe.env()?)`,
      50,
    );
    return usage!;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
