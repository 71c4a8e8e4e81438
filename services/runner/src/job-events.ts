import { messageIds, type JobError, type JobEvent } from "@jobs/core";

/**
 * The events a runner stores, each with its message id. The ids make every retried
 * publish a duplicate the server drops: one start per attempt, one finish per job.
 */
const now = () => new Date().toISOString();

export function started(jobId: string, attempt: number, runner: string): [JobEvent, string] {
  return [{ type: "JobStarted", jobId, time: now(), data: { attempt, runner } }, messageIds.started(jobId, attempt)];
}

export function progressed(jobId: string, attempt: number, n: number, percent: number, message?: string): [JobEvent, string] {
  const data = message === undefined ? { attempt, percent } : { attempt, percent, message };
  return [{ type: "JobProgress", jobId, time: now(), data }, messageIds.progress(jobId, attempt, n)];
}

export function attemptFailed(jobId: string, attempt: number, error: JobError, retryAt: Date): [JobEvent, string] {
  return [
    { type: "JobAttemptFailed", jobId, time: now(), data: { attempt, error, retryAt: retryAt.toISOString() } },
    messageIds.attemptFailed(jobId, attempt),
  ];
}

export function succeeded(jobId: string, attempt: number, result: unknown): [JobEvent, string] {
  return [{ type: "JobFinished", jobId, time: now(), data: { attempt, outcome: "succeeded", result } }, messageIds.finished(jobId)];
}

export function failed(jobId: string, attempt: number, error: JobError): [JobEvent, string] {
  return [{ type: "JobFinished", jobId, time: now(), data: { attempt, outcome: "failed", error } }, messageIds.finished(jobId)];
}
