import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { NonRetryableError } from "./job-type.ts";
import type { WorkerReply, WorkerTask } from "./worker-entry.ts";

/**
 * Runs `module[exportName](...args)` in a fresh worker thread. Workers get neither
 * vitest's transform nor, on Node 20, the hooks of `tsx` (its `--import` registers only
 * on the main thread there), so the worker's first script is plain JS that registers
 * tsx through its API and then imports the TypeScript entry: the same path under
 * `tsx main.ts` and under vitest. When `signal` aborts, the promise rejects with its
 * reason at once and the worker is terminated, so a busy computation cannot outlive
 * its job's timeout or cancellation.
 */
const ENTRY = new URL("./worker-entry.ts", import.meta.url).href;
const BOOTSTRAP = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); });`;

/** The URL of tsx's ESM API, resolved from here (where tsx is installed) through its package exports. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports["./esm/api"]!.import.default, pathToFileURL(pkgPath)).href;
}

export function runInWorker<T>(moduleUrl: string, exportName: string, args: unknown[], signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const task: WorkerTask = { moduleUrl, exportName, args };
    // execArgv []: do not inherit `--import tsx`; the bootstrap registers it exactly once.
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: task, execArgv: [] });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => settle(() => reject(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (reply: WorkerReply) => settle(() => (reply.ok ? resolve(reply.value as T) : reject(toError(reply.error)))));
    worker.once("error", (err) => settle(() => reject(err)));
    worker.once("exit", (code) => settle(() => reject(new Error(`worker for ${exportName} exited with code ${code} before answering`))));
  });
}

function toError(e: Extract<WorkerReply, { ok: false }>["error"]): Error {
  const err = e.nonRetryable ? new NonRetryableError(e.message, { code: e.code }) : Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}
