import type { Decided } from "./decision.ts";
import type { JobAttemptFailed, JobError, JobFinished } from "./events.ts";
import { JobErrorCodes } from "./job-errors.ts";
import { messageIds } from "./message-ids.ts";
import { retryDelayMs } from "./retry-delay.ts";

/** How an attempt ended, as the runner saw it. */
export type AttemptOutcome =
  | { kind: "succeeded"; result: unknown }
  | { kind: "failed"; error: JobError; retryable: boolean }
  /** Someone else ended the job (a cancel): nothing more to store. */
  | { kind: "finished-elsewhere" }
  /** The runner is shutting down and its grace period is over. */
  | { kind: "interrupted" };

export interface AttemptRef {
  jobId: string;
  attempt: number;
  /** The job's last attempt (maxAttempts plus the attempts a shutdown interrupted). */
  lastAttempt: number;
}

export type AttemptEndDecision =
  /** The job was ended elsewhere: store nothing, ack. */
  | { kind: "drop" }
  /** The job's ending: store it, then ack. */
  | { kind: "end"; append: Decided<JobFinished> }
  /** A failed attempt with attempts left: store it, hand the job back for `delayMs`. */
  | { kind: "retry"; append: Decided<JobAttemptFailed>; delayMs: number }
  /** Shutdown: one quick try to store why, then hand the job back at once (never the job's end). */
  | { kind: "interrupted"; append: Decided<JobAttemptFailed> };

/** What to store for an attempt's outcome. Pure: `now` is passed in. */
export function decideAttemptEnd(outcome: AttemptOutcome, ref: AttemptRef, now: Date): AttemptEndDecision {
  const { jobId, attempt, lastAttempt } = ref;
  switch (outcome.kind) {
    case "finished-elsewhere":
      return { kind: "drop" };
    case "succeeded": {
      const result = asJson(outcome.result);
      if (result.ok) return end(jobId, now, { attempt, outcome: "succeeded", result: result.value });
      return end(jobId, now, { attempt, outcome: "failed", error: invalidResult(result.problem) });
    }
    case "failed": {
      if (!outcome.retryable || attempt >= lastAttempt) return end(jobId, now, { attempt, outcome: "failed", error: outcome.error });
      const delayMs = retryDelayMs(attempt);
      return { kind: "retry", append: attemptFailed(jobId, attempt, now, outcome.error, new Date(now.getTime() + delayMs)), delayMs };
    }
    case "interrupted": {
      const error = { code: JobErrorCodes.interrupted, message: "the runner shut down before the attempt ended" };
      return { kind: "interrupted", append: attemptFailed(jobId, attempt, now, error, now) };
    }
  }
}

/** The error of a result that cannot be stored (JSON cannot hold it, or the store refused its size). */
export function invalidResult(problem: string): JobError {
  return { code: JobErrorCodes.invalidResult, message: `the result cannot be stored: ${problem}` };
}

function end(jobId: string, now: Date, data: JobFinished["data"]): AttemptEndDecision {
  return { kind: "end", append: { event: { type: "JobFinished", jobId, time: now.toISOString(), data }, msgId: messageIds.finished(jobId) } };
}

function attemptFailed(jobId: string, attempt: number, now: Date, error: JobError, retryAt: Date): Decided<JobAttemptFailed> {
  const event: JobAttemptFailed = { type: "JobAttemptFailed", jobId, time: now.toISOString(), data: { attempt, error, retryAt: retryAt.toISOString() } };
  return { event, msgId: messageIds.attemptFailed(jobId, attempt) };
}

/** A result as JSON will carry it (undefined -> null), or why JSON cannot hold it (a cycle, a BigInt). */
function asJson(result: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    const text = JSON.stringify(result);
    return { ok: true, value: text === undefined ? null : JSON.parse(text) };
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
}
