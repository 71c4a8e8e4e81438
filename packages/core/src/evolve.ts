import type { JobEvent, StoredEvent } from "./events.ts";
import { isFinal, type JobView } from "./job.ts";
import { DEFAULT_PRIORITY } from "./job-priority.ts";

/**
 * The pure fold of a job's events into its view. No I/O, no clock: times come from the
 * events. It returns the *same object* when an event changes nothing (a duplicate, a
 * redelivery, a late event), so callers can skip the write.
 *
 * Rules:
 * - an event at or below `view.seq` was folded already: ignored;
 * - nothing moves a job out of a final status (a late JobProgress or a second
 *   JobFinished after a double run changes nothing);
 * - events of an older attempt than the current one are ignored;
 * - progress never goes down within an attempt, and starts afresh with each attempt.
 */
export function evolve(view: JobView | null, stored: StoredEvent): JobView | null {
  const { seq, event } = stored;
  if (view !== null && seq <= view.seq) return view;
  if (view === null) return event.type === "JobRequested" ? requested(event, seq) : null;
  if (isFinal(view.status)) return view;

  const touch = { seq, updatedAt: event.time };
  switch (event.type) {
    case "JobRequested":
      return view; // one request per job; a second one (same id) cannot redefine it
    case "JobStarted": {
      // An attempt starts once. A JobStarted of the current attempt (running, or already
      // failed and waiting for its retry) or of an older one is a duplicate or a late
      // double run; applying it would show a finished attempt as running again.
      if (event.data.attempt <= view.attempts) return view;
      return {
        ...view,
        ...touch,
        status: "running",
        attempts: event.data.attempt,
        startedAt: event.time,
        progress: null,
      };
    }
    case "JobProgress": {
      const { attempt, percent, message } = event.data;
      if (view.status !== "running" || attempt !== view.attempts) return view;
      if (view.progress !== null && percent < view.progress.percent) return view;
      return { ...view, ...touch, progress: message === undefined ? { percent } : { percent, message } };
    }
    case "JobAttemptFailed": {
      if (event.data.attempt < view.attempts) return view;
      return { ...view, ...touch, status: "queued", attempts: event.data.attempt, error: event.data.error };
    }
    case "JobFinished": {
      const { outcome, attempt } = event.data;
      return {
        ...view,
        ...touch,
        status: outcome,
        attempts: Math.max(view.attempts, attempt),
        result: outcome === "succeeded" ? (event.data.result ?? null) : null,
        error: outcome === "succeeded" ? null : (event.data.error ?? null),
        finishedAt: event.time,
      };
    }
    default:
      return assertNever(event);
  }
}

/** Folds events in stream order; null when they hold no JobRequested. */
export function foldEvents(events: Iterable<StoredEvent>, initial: JobView | null = null): JobView | null {
  let view = initial;
  for (const stored of events) view = evolve(view, stored);
  return view;
}

function requested(event: Extract<JobEvent, { type: "JobRequested" }>, seq: number): JobView {
  const { app, jobType, params, meta, maxAttempts, timeoutMs, runAt } = event.data;
  const { priority = DEFAULT_PRIORITY, startBy = null, scheduleId = null } = event.data;
  return {
    id: event.jobId,
    type: jobType,
    status: "queued",
    params,
    meta,
    progress: null,
    result: null,
    error: null,
    attempts: 0,
    maxAttempts,
    createdAt: event.time,
    startedAt: null,
    finishedAt: null,
    updatedAt: event.time,
    app,
    timeoutMs,
    priority,
    runAt,
    startBy,
    scheduleId,
    seq,
  };
}

function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}
