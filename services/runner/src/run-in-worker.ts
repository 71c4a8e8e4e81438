import { Worker } from "node:worker_threads";
import { NonRetryableError } from "./job-type.ts";
import type { WorkerReply, WorkerTask } from "./worker-entry.ts";

/**
 * Runs `module[exportName](...args)` in a fresh worker thread. The worker loads the
 * TypeScript entry as Node runs every file of the project, by type stripping (no
 * loader, so the same under `pnpm start:runner` and under vitest, whose transform
 * workers do not get). When `signal` aborts, the promise rejects with its reason at
 * once and the worker is terminated, so a busy computation cannot outlive its job's
 * timeout or cancellation.
 */
const ENTRY = new URL("./worker-entry.ts", import.meta.url);

export function runInWorker<T>(moduleUrl: string, exportName: string, args: unknown[], signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const task: WorkerTask = { moduleUrl, exportName, args };
    // execArgv []: the main thread's flags (a preload, a profiler) are not the job's.
    const worker = new Worker(ENTRY, { workerData: task, execArgv: [] });
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
