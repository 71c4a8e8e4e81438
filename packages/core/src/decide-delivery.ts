import type { Decided } from "./decision.ts";
import type { JobFinished, JobRequested, JobStarted, StoredEvent } from "./events.ts";
import { foldEvents } from "./evolve.ts";
import { JobErrorCodes } from "./job-errors.ts";
import { isFinal, type JobStatus } from "./job.ts";
import { messageIds } from "./message-ids.ts";

/**
 * What a runner does with one delivery of a job's request, given the job's events (on a
 * first delivery, the request alone: nothing else can have happened yet, and the
 * conditional JobStarted proves it). Pure: the clock and what the runner knows of the
 * job's type are passed in.
 */
export type DeliveryDecision =
  /** The job has ended (a late redelivery): nothing to store, ack it. */
  | { kind: "ended"; status: JobStatus }
  /** The job fails without a new attempt: store the ending, then ack. */
  | { kind: "fail"; append: Decided<JobFinished>; reason: "attempts_exhausted" | "invalid_params" }
  /** Not due yet (`runAt`): hand it back for `delayMs`. */
  | { kind: "not-due"; delayMs: number }
  /** This runner does not know the type (another version may): hand it back for `delayMs`. */
  | { kind: "unknown-type"; delayMs: number }
  /** Run attempt `attempt` (of at most `lastAttempt`) once its JobStarted is stored. */
  | { kind: "start"; append: Decided<JobStarted>; attempt: number; lastAttempt: number };

export interface DeliveryContext {
  runnerId: string;
  /** Checks params against the job type's schema (problems, or null when valid); null when the runner does not know the type. */
  checkParams: ((params: unknown) => string[] | null) | null;
}

/** The longest a not-yet-due job is handed back for before it is looked at again. */
export const MAX_NOT_DUE_DELAY_MS = 86_400_000;

/** How long a job of a type this runner does not know is handed back for. */
export const UNKNOWN_TYPE_DELAY_MS = 5_000;

export function decideDelivery(events: readonly StoredEvent[], now: Date, ctx: DeliveryContext): DeliveryDecision {
  const request = events.find((e) => e.event.type === "JobRequested")?.event as JobRequested | undefined;
  const view = foldEvents(events);
  if (request === undefined || view === null) throw new Error("a delivery's events must hold its JobRequested");
  if (isFinal(view.status)) return { kind: "ended", status: view.status };
  const { jobId } = request;
  const attempt = view.attempts + 1;
  const lastAttempt = request.data.maxAttempts + interruptedAttempts(events);
  if (attempt > lastAttempt) {
    const message = `attempt ${attempt - 1} ended without a result (its runner stopped) and no attempts are left`;
    return fail(jobId, attempt - 1, now, "attempts_exhausted", message);
  }
  const { runAt, params } = request.data;
  const startAt = runAt === null ? 0 : Date.parse(runAt);
  // At most a day at a time: the server reads the delay in nanoseconds, and a runAt
  // centuries ahead overflowed it into an immediate redelivery, spinning forever.
  if (startAt > now.getTime()) return { kind: "not-due", delayMs: Math.min(Math.ceil(startAt - now.getTime()), MAX_NOT_DUE_DELAY_MS) };
  if (ctx.checkParams === null) return { kind: "unknown-type", delayMs: UNKNOWN_TYPE_DELAY_MS };
  const problems = ctx.checkParams(params);
  // No attempt started: the ending names the last attempt that did.
  if (problems !== null) return fail(jobId, attempt - 1, now, "invalid_params", problems.join("; "));
  const event: JobStarted = { type: "JobStarted", jobId, time: now.toISOString(), data: { attempt, runner: ctx.runnerId } };
  return { kind: "start", append: { event, msgId: messageIds.started(jobId, attempt) }, attempt, lastAttempt };
}

/**
 * Attempts that a runner's graceful shutdown ended (JobAttemptFailed `interrupted`). Each
 * extends the job's budget by one: a deploy must not use up its attempts. A crash does
 * count: it may well be the job's own doing.
 */
export function interruptedAttempts(events: readonly StoredEvent[]): number {
  return events.filter((e) => e.event.type === "JobAttemptFailed" && e.event.data.error.code === JobErrorCodes.interrupted).length;
}

function fail(jobId: string, attempt: number, now: Date, code: "attempts_exhausted" | "invalid_params", message: string): DeliveryDecision {
  const event: JobFinished = { type: "JobFinished", jobId, time: now.toISOString(), data: { attempt, outcome: "failed", error: { code, message } } };
  return { kind: "fail", append: { event, msgId: messageIds.finished(jobId) }, reason: code };
}
