// Preloaded into our services by the steady-state scenario of `pnpm bench` (NODE_OPTIONS=
// "--expose-gc --import <this file>", BENCH_HEAP_DIR set): on SIGUSR2 the service runs a
// full garbage collection and writes process.memoryUsage() to BENCH_HEAP_DIR/<pid>.json.
// A resident size read from outside depends on when V8 last collected (one gateway read
// 173 to 273 MB at the checkpoints of one run, with no trend); what a service still holds
// after a full collection is what grows when it keeps something per job. Plain
// JavaScript: it loads before the TypeScript does.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_HEAP_DIR;
const gc = globalThis.gc;
if (dir && typeof gc === "function") {
  process.on("SIGUSR2", () => {
    gc();
    const file = join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.tmp`, file); // the bench never reads a half-written file
  });
}
