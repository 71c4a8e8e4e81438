import { Type, type Static } from "typebox";
import { Compile } from "typebox/compile";
import { JobPriority } from "./job-priority.ts";
import { parseJson } from "./json.ts";

/**
 * Every event of a job, one TypeBox schema each. The static types derive from the
 * schemas, and the same compiled checker validates what is published and what is
 * consumed. Events are past tense; `time` is set once by whoever publishes the event,
 * so the fold never reads a clock.
 */

const JsonObject = Type.Record(Type.String(), Type.Unknown());

export const JobError = Type.Object({
  /** Stable machine-readable code, e.g. `timeout`, `invalid_params`, `error`. */
  code: Type.String(),
  message: Type.String(),
});
export type JobError = Static<typeof JobError>;

const envelope = <T extends string, D extends ReturnType<typeof Type.Object>>(type: T, data: D) =>
  Type.Object({
    type: Type.Literal(type),
    jobId: Type.String(),
    time: Type.String({ format: "date-time" }),
    data,
  });

export const JobRequested = envelope(
  "JobRequested",
  Type.Object({
    /** The application (token owner) the job belongs to. */
    app: Type.String(),
    jobType: Type.String(),
    params: Type.Unknown(),
    meta: JsonObject,
    maxAttempts: Type.Integer({ minimum: 1 }),
    timeoutMs: Type.Integer({ minimum: 1 }),
    /** ISO time before which the job must not start; null to run at once. */
    runAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    /**
     * The order among queued jobs (job-priority.ts). Absent in requests stored before
     * priorities existed, which read as "normal".
     */
    priority: Type.Optional(JobPriority),
    /** ISO time by which the job must have started, or it ends cancelled ("expired"). Absent: none. */
    startBy: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()])),
    /** The cron schedule whose tick created the job. Absent: none. */
    scheduleId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
);

export const JobStarted = envelope(
  "JobStarted",
  Type.Object({
    attempt: Type.Integer({ minimum: 1 }),
    /** Which runner process took the attempt (for tracing double runs after a crash). */
    runner: Type.String(),
    /**
     * The delivery that started it: the request's stream and sequence, or a dispatch's
     * token. Only that delivery, come back, may take the attempt over (its runner stopped);
     * any other copy of the job is a duplicate. Absent in events stored before dispatches.
     */
    source: Type.Optional(Type.String()),
  }),
);

export const JobProgress = envelope(
  "JobProgress",
  Type.Object({
    attempt: Type.Integer({ minimum: 1 }),
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    message: Type.Optional(Type.String()),
  }),
);

/** An attempt failed and another one will follow (after `retryAt`). */
export const JobAttemptFailed = envelope(
  "JobAttemptFailed",
  Type.Object({
    attempt: Type.Integer({ minimum: 1 }),
    error: JobError,
    retryAt: Type.String({ format: "date-time" }),
  }),
);

export const JobOutcome = Type.Union([Type.Literal("succeeded"), Type.Literal("failed"), Type.Literal("cancelled")]);
export type JobOutcome = Static<typeof JobOutcome>;

export const JobFinished = envelope(
  "JobFinished",
  Type.Object({
    /** The attempt that ended the job; 0 when it ended before any attempt started. */
    attempt: Type.Integer({ minimum: 0 }),
    outcome: JobOutcome,
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(JobError),
  }),
);

export const JobEvent = Type.Union([JobRequested, JobStarted, JobProgress, JobAttemptFailed, JobFinished]);

export type JobRequested = Static<typeof JobRequested>;
export type JobStarted = Static<typeof JobStarted>;
export type JobProgress = Static<typeof JobProgress>;
export type JobAttemptFailed = Static<typeof JobAttemptFailed>;
export type JobFinished = Static<typeof JobFinished>;
export type JobEvent = Static<typeof JobEvent>;
export type JobEventType = JobEvent["type"];

/** An event as read back from the stream, with its stream sequence. */
export interface StoredEvent {
  seq: number;
  event: JobEvent;
}

const checkEvent = Compile(JobEvent);

export class InvalidEventError extends Error {
  readonly details: string[];

  constructor(details: string[]) {
    super(`invalid job event: ${details.join("; ")}`);
    this.details = details;
    this.name = "InvalidEventError";
  }
}

/** Parses and validates an event from its wire form (JSON bytes or text); anything else throws InvalidEventError. */
export function decodeEvent(payload: Uint8Array | string): JobEvent {
  const value = parseJson(payload);
  if (value === undefined) throw new InvalidEventError(["not JSON"]);
  if (!checkEvent.Check(value)) {
    throw new InvalidEventError([...checkEvent.Errors(value)].slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message}`));
  }
  return value;
}

export function encodeEvent(event: JobEvent): Uint8Array {
  if (!checkEvent.Check(event)) {
    throw new InvalidEventError([...checkEvent.Errors(event)].slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message}`));
  }
  return new TextEncoder().encode(JSON.stringify(event));
}
