import { parentPort, workerData } from "node:worker_threads";
import { NonRetryableError } from "./job-type.ts";

/**
 * The worker thread's side of `runInWorker`: imports the module, calls the export with
 * the arguments and posts back the result or the error (as plain data: errors do not
 * survive structured cloning with their class).
 */
export interface WorkerTask {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
}

export type WorkerReply =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; stack?: string; code?: string; nonRetryable: boolean } };

async function main(task: WorkerTask): Promise<WorkerReply> {
  try {
    const mod = (await import(task.moduleUrl)) as Record<string, unknown>;
    const fn = mod[task.exportName];
    if (typeof fn !== "function") throw new Error(`${task.moduleUrl} has no exported function "${task.exportName}"`);
    return { ok: true, value: await fn(...task.args) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    return {
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        stack: e.stack,
        code: typeof code === "string" ? code : undefined,
        nonRetryable: e instanceof NonRetryableError,
      },
    };
  }
}

parentPort?.postMessage(await main(workerData as WorkerTask));
