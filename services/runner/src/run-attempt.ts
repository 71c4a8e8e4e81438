import { JobErrorCodes, type AttemptOutcome, type JobError } from "@jobs/core";
import type { Logger } from "pino";
import { NonRetryableError, type JobContext, type JobType } from "./job-type.ts";
import { runInWorker } from "./run-in-worker.ts";

/** Why the runner stopped waiting for an attempt before the job type returned. */
export class AttemptAborted extends Error {
  readonly why: "timeout" | "shutdown" | "finished";

  constructor(
    why: "timeout" | "shutdown" | "finished",
    message: string,
  ) {
    super(message);
    this.why = why;
    this.name = "AttemptAborted";
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once above this

/**
 * Runs one attempt of a job type. `ctx.signal` is the signal of `controller`, which the
 * caller aborts on shutdown or a cancel and this function on the job's timeout, each with
 * an AttemptAborted reason; the runner then stops waiting at once, whether or not the job
 * type honours the signal. (One controller per attempt: a second one forwarding the
 * first cost every job an AbortSignal and two listeners.)
 */
export async function runAttempt(opts: {
  type: JobType;
  params: unknown;
  jobId: string;
  attempt: number;
  timeoutMs: number;
  controller: AbortController;
  log: Logger;
  progress: (percent: number, message?: string) => void;
}): Promise<AttemptOutcome> {
  const { controller } = opts;
  const { signal } = controller;
  const timer = setTimeout(
    () => controller.abort(new AttemptAborted("timeout", `timed out after ${opts.timeoutMs} ms`)),
    Math.min(opts.timeoutMs, MAX_TIMER_MS),
  );

  const ctx: JobContext = {
    jobId: opts.jobId,
    attempt: opts.attempt,
    signal,
    log: opts.log,
    progress: opts.progress,
    runInWorker: (moduleUrl, exportName, args) => runInWorker(moduleUrl, exportName, args, signal),
  };
  try {
    const work = Promise.resolve().then(() => opts.type.run(opts.params, ctx));
    work.catch(() => undefined); // a rejection after an abort must not go unhandled
    return { kind: "succeeded", result: await untilAborted(work, signal) };
  } catch (err) {
    const reason: unknown = signal.aborted ? signal.reason : null;
    if (reason instanceof AttemptAborted) {
      if (reason.why === "finished") return { kind: "finished-elsewhere" };
      if (reason.why === "shutdown") return { kind: "interrupted" };
      return { kind: "failed", error: { code: JobErrorCodes.timeout, message: reason.message }, retryable: true };
    }
    return { kind: "failed", error: toJobError(err), retryable: !(err instanceof NonRetryableError) };
  } finally {
    clearTimeout(timer);
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** The job's `error`: a stable code (the error's own `code` when it has a sane one) and its message. */
export function toJobError(err: unknown): JobError {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" && CODE_PATTERN.test(e.code) ? e.code : JobErrorCodes.error;
  const message = typeof e?.message === "string" && e.message !== "" ? e.message : String(err);
  return { code, message: message.slice(0, 4_000) };
}
