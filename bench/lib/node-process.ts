import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "./clock.ts";

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs one of the bench's own TypeScript programs (the BullMQ gateway or worker) as its
 * own process, the way our services run: `node <file>` (Node strips the types). Resolves once it
 * prints `ready` on a line of its own.
 */
export async function startNodeProcess(file: string, env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [join(BENCH_DIR, file)], {
    cwd: join(BENCH_DIR, ".."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const proc: NodeProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  try {
    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}:\n${out}`);
        return /^ready$/m.test(out);
      },
      30_000,
      () => `${file} not ready:\n${out}`,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
