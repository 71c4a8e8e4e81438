import type { JobAttemptFailed, JobError, JobEvent, JobFinished, JobProgress, JobRequested, JobStarted, StoredEvent } from "../../src/events.ts";

/**
 * Builders of job events for tests, so that no test spells a JobRequested out by hand:
 * every field has a plain default, and a test names only what it is about.
 */

export const JOB_ID = "01J00000000000000000000000";

const BASE = Date.parse("2030-01-01T00:00:00.000Z");

/** The ISO time `s` seconds after the tests' epoch (2030-01-01T00:00:00Z). */
export const at = (s: number): string => new Date(BASE + s * 1000).toISOString();

type RequestOptions = Partial<JobRequested["data"]> & { jobId?: string; time?: string };

export function requested({ jobId = JOB_ID, time = at(0), ...data }: RequestOptions = {}): JobRequested {
  return {
    type: "JobRequested",
    jobId,
    time,
    data: { app: "alpha", jobType: "sum", params: { a: 1, b: 2 }, meta: {}, maxAttempts: 3, timeoutMs: 1000, runAt: null, ...data },
  };
}

export function started(attempt: number, { jobId = JOB_ID, time = at(attempt), runner = "r1", source = undefined as string | undefined } = {}): JobStarted {
  return { type: "JobStarted", jobId, time, data: source === undefined ? { attempt, runner } : { attempt, runner, source } };
}

export function progressed(attempt: number, percent: number, { jobId = JOB_ID, time = at(attempt), message = undefined as string | undefined } = {}): JobProgress {
  return { type: "JobProgress", jobId, time, data: message === undefined ? { attempt, percent } : { attempt, percent, message } };
}

export function attemptFailed(attempt: number, { jobId = JOB_ID, time = at(attempt + 1), error = { code: "error", message: "boom" } as JobError, retryAt = at(60) } = {}): JobAttemptFailed {
  return { type: "JobAttemptFailed", jobId, time, data: { attempt, error, retryAt } };
}

export function succeeded(attempt: number, result: unknown, { jobId = JOB_ID, time = at(attempt + 1) } = {}): JobFinished {
  return { type: "JobFinished", jobId, time, data: { attempt, outcome: "succeeded", result } };
}

export function failed(attempt: number, error: JobError = { code: "error", message: "boom" }, { jobId = JOB_ID, time = at(attempt + 1) } = {}): JobFinished {
  return { type: "JobFinished", jobId, time, data: { attempt, outcome: "failed", error } };
}

export function cancelled(attempt: number, { jobId = JOB_ID, time = at(attempt + 1), message = "Cancelled on request" } = {}): JobFinished {
  return { type: "JobFinished", jobId, time, data: { attempt, outcome: "cancelled", error: { code: "cancelled", message } } };
}

/** The events as a stream would hold them: sequences 1, 2, 3... in order. */
export function stored(...events: JobEvent[]): StoredEvent[] {
  return events.map((event, i) => ({ seq: i + 1, event }));
}
