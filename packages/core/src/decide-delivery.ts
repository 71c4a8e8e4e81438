import type { Decided } from "./decision.ts";
import type { JobAttemptFailed, JobFinished, JobRequested, JobStarted, StoredEvent } from "./events.ts";
import { foldEvents } from "./evolve.ts";
import { JobErrorCodes } from "./job-errors.ts";
import { isFinal, type JobStatus, type JobView } from "./job.ts";
import { messageIds } from "./message-ids.ts";

/**
 * What a runner does with one delivery of a job: a request from the runners' consumer
 * (a normal job due at once), or a dispatch from a ready queue (`{jobId, attempt}`), given
 * the job's events (on a first delivery of a request, the request alone: nothing else can
 * have happened yet, and the conditional JobStarted proves it). Pure: the clock and what
 * the runner knows of the job's type are passed in.
 */
export type DeliveryDecision =
  /** The job has ended (a late redelivery): nothing to store, ack it. */
  | { kind: "ended"; status: JobStatus }
  /** Another delivery of the job has started its attempt, or the attempt this one was for (a second copy of a dispatch): ack it. */
  | { kind: "duplicate" }
  /** The job fails without a new attempt: store the ending, then ack. */
  | { kind: "fail"; append: Decided<JobFinished>; reason: "attempts_exhausted" | "invalid_params" }
  /** Not started by its startBy: store the ending (cancelled, `expired`), then ack. */
  | { kind: "expire"; append: Decided<JobFinished> }
  /**
   * Not due yet (its runAt, or the backoff of a retry): make it wait on the server (a
   * one-shot schedule that dispatches `attempt` at `until`), then ack.
   */
  | { kind: "wait"; until: Date; attempt: number }
  /** This runner does not know the type (another version may): hand it back for `delayMs`. */
  | { kind: "unknown-type"; delayMs: number }
  /** Run attempt `attempt` (of at most `lastAttempt`) once its JobStarted is stored. */
  | { kind: "start"; append: Decided<JobStarted>; attempt: number; lastAttempt: number };

export interface DeliveryContext {
  runnerId: string;
  /** Checks params against the job type's schema (problems, or null when valid); null when the runner does not know the type. */
  checkParams: ((params: unknown) => string[] | null) | null;
  /**
   * Which delivery this is: the request's stream and sequence, or a dispatch's token (the
   * same for every redelivery and hand-back of that one dispatch, distinct between copies).
   */
  source: string;
  /** The attempt a dispatch was sent for; 1 for a request. */
  attempt?: number;
}

/** How long a job of a type this runner does not know is handed back for. */
export const UNKNOWN_TYPE_DELAY_MS = 5_000;

export function decideDelivery(events: readonly StoredEvent[], now: Date, ctx: DeliveryContext): DeliveryDecision {
  const request = requestOf(events);
  const view = foldEvents(events);
  if (view === null) throw new Error("a delivery's events must hold its JobRequested");
  if (isFinal(view.status)) return { kind: "ended", status: view.status };
  const { jobId } = request;
  if (isDuplicate(view, events, ctx)) return { kind: "duplicate" };
  const attempt = view.attempts + 1;
  const lastAttempt = request.data.maxAttempts + interruptedAttempts(events);
  if (attempt > lastAttempt) {
    const message = `attempt ${attempt - 1} ended without a result (its runner stopped) and no attempts are left`;
    return fail(jobId, attempt - 1, now, "attempts_exhausted", message);
  }
  if (isExpired(view, now)) return expire(view, now);
  const due = dueAt(view, events);
  if (due !== null && due.getTime() > now.getTime()) return { kind: "wait", until: due, attempt };
  if (ctx.checkParams === null) return { kind: "unknown-type", delayMs: UNKNOWN_TYPE_DELAY_MS };
  const problems = ctx.checkParams(request.data.params);
  // No attempt started: the ending names the last attempt that did.
  if (problems !== null) return fail(jobId, attempt - 1, now, "invalid_params", problems.join("; "));
  const event: JobStarted = { type: "JobStarted", jobId, time: now.toISOString(), data: { attempt, runner: ctx.runnerId, source: ctx.source } };
  return { kind: "start", append: { event, msgId: messageIds.started(jobId, attempt, ctx.source) }, attempt, lastAttempt };
}

/**
 * Whether another delivery owns the job now. The delivery that started the current
 * attempt owns it: it comes back only when its runner stopped without an answer (a
 * crash, an ack lost past the ack wait) or handed it back, and then it takes the attempt
 * over. Any other delivery of a job whose attempt has started (a second copy of a
 * dispatch, the request's message when a dispatch started it, an old copy of an attempt
 * that has failed and waits for its retry) is a duplicate: the owner, or the retry's own
 * schedule, goes on. A start stored before deliveries carried a source is owned by
 * whoever comes (the rule before dispatches: a redelivery takes over).
 */
function isDuplicate(view: JobView, events: readonly StoredEvent[], ctx: DeliveryContext): boolean {
  const sentFor = ctx.attempt ?? 1;
  if (view.status === "queued" && view.attempts < sentFor) return false;
  if (view.attempts === 0) return false;
  const start = [...events].reverse().find((e): e is StoredEvent & { event: JobStarted } => e.event.type === "JobStarted" && e.event.data.attempt === view.attempts);
  const owner = start?.event.data.source;
  return owner !== undefined && owner !== ctx.source;
}

export type ExpiryDecision =
  /** Started in time, ended, or not due to expire yet: nothing to store. */
  | { kind: "keep"; reason: "ended" | "started" | "no-start-by" }
  /** The expiry fired before startBy on this runner's clock: wait again until then. */
  | { kind: "early"; until: Date }
  | { kind: "expire"; append: Decided<JobFinished> };

/**
 * What a fired expiry (the schedule set for a job's startBy) stores: the job's ending if
 * it is not running and has not ended. A job that is running has started; if that
 * attempt fails, the next delivery expires it instead of starting another.
 */
export function decideExpiry(events: readonly StoredEvent[], now: Date): ExpiryDecision {
  const view = foldEvents(events);
  if (view === null) throw new Error("an expiry's events must hold its JobRequested");
  if (isFinal(view.status)) return { kind: "keep", reason: "ended" };
  if (view.status === "running") return { kind: "keep", reason: "started" };
  if (view.startBy === null) return { kind: "keep", reason: "no-start-by" };
  if (!isExpired(view, now)) return { kind: "early", until: new Date(view.startBy) };
  return expire(view, now);
}

/**
 * When the job's next attempt may start: its runAt before the first attempt, the retry
 * time of the failed attempt it waits on after one; null when nothing holds it back.
 */
export function dueAt(view: JobView, events: readonly StoredEvent[]): Date | null {
  if (view.status !== "queued") return null;
  if (view.attempts === 0) return view.runAt === null ? null : new Date(view.runAt);
  const failed = [...events].reverse().find((e): e is StoredEvent & { event: JobAttemptFailed } => e.event.type === "JobAttemptFailed")?.event;
  return failed !== undefined && failed.data.attempt === view.attempts ? new Date(failed.data.retryAt) : null;
}

/**
 * Attempts that a runner's graceful shutdown ended (JobAttemptFailed `interrupted`). Each
 * extends the job's budget by one: a deploy must not use up its attempts. A crash does
 * count: it may well be the job's own doing.
 */
export function interruptedAttempts(events: readonly StoredEvent[]): number {
  return events.filter((e) => e.event.type === "JobAttemptFailed" && e.event.data.error.code === JobErrorCodes.interrupted).length;
}

function requestOf(events: readonly StoredEvent[]): JobRequested {
  const request = events.find((e) => e.event.type === "JobRequested")?.event as JobRequested | undefined;
  if (request === undefined) throw new Error("a delivery's events must hold its JobRequested");
  return request;
}

function isExpired(view: JobView, now: Date): boolean {
  return view.startBy !== null && now.getTime() >= Date.parse(view.startBy);
}

function expire(view: JobView, now: Date): { kind: "expire"; append: Decided<JobFinished> } {
  const message = `not started by its startBy (${view.startBy})`;
  const event: JobFinished = {
    type: "JobFinished",
    jobId: view.id,
    time: now.toISOString(),
    data: { attempt: view.attempts, outcome: "cancelled", error: { code: JobErrorCodes.expired, message } },
  };
  return { kind: "expire", append: { event, msgId: messageIds.expired(view.id) } };
}

function fail(jobId: string, attempt: number, now: Date, code: "attempts_exhausted" | "invalid_params", message: string): DeliveryDecision {
  const event: JobFinished = { type: "JobFinished", jobId, time: now.toISOString(), data: { attempt, outcome: "failed", error: { code, message } } };
  return { kind: "fail", append: { event, msgId: messageIds.finished(jobId) }, reason: code };
}
