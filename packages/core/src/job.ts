import { Type, type Static } from "typebox";
import { JobError } from "./events.ts";
import { JobPriority } from "./job-priority.ts";

export const JobStatus = Type.Union([
  Type.Literal("queued"),
  Type.Literal("running"),
  Type.Literal("succeeded"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
]);
export type JobStatus = Static<typeof JobStatus>;

export const FINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];
export const isFinal = (status: JobStatus): boolean => FINAL_STATUSES.includes(status);

export const JobProgressView = Type.Object({
  percent: Type.Number({ minimum: 0, maximum: 100 }),
  message: Type.Optional(Type.String()),
});

const Time = Type.String({ format: "date-time" });
const NullableTime = Type.Union([Time, Type.Null()]);

/** The job as the API shows it (the contract's shape, nothing more). */
export const Job = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: JobStatus,
  params: Type.Unknown(),
  meta: Type.Record(Type.String(), Type.Unknown()),
  progress: Type.Union([JobProgressView, Type.Null()]),
  result: Type.Unknown(),
  error: Type.Union([JobError, Type.Null()]),
  attempts: Type.Integer({ minimum: 0 }),
  maxAttempts: Type.Integer({ minimum: 1 }),
  createdAt: Time,
  startedAt: NullableTime,
  finishedAt: NullableTime,
  updatedAt: Time,
  priority: JobPriority,
  /** Not started before then; null: as soon as a runner is free. */
  runAt: NullableTime,
  /** Ends cancelled with error code "expired" if not started by then; null: never expires. */
  startBy: NullableTime,
  /** The schedule whose tick created the job. */
  scheduleId: Type.Union([Type.String(), Type.Null()]),
});
export type Job = Static<typeof Job>;

/**
 * What the projector stores per job: the public job plus what only services need. One
 * schema, so that a view read back from the store is checked as an event is
 * (stored-view.ts); the static type derives from it.
 */
export const JobView = Type.Object({
  ...Job.properties,
  app: Type.String(),
  timeoutMs: Type.Integer({ minimum: 1 }),
  /**
   * The stream sequence of the last event folded in: the fold ignores anything at or
   * below it, which makes redeliveries and replays harmless.
   */
  seq: Type.Integer({ minimum: 1 }),
  /**
   * The page of its application's listing index that holds the job's entry (see
   * job-index.ts). Set by the projector when it indexes the job; absent in a view
   * folded straight from events, which the projector has not placed (yet).
   */
  indexPage: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type JobView = Static<typeof JobView>;

/** The API's job of a view: only the contract's fields, whatever else the view carries. */
export function toJob(view: JobView): Job {
  return {
    id: view.id,
    type: view.type,
    status: view.status,
    params: view.params,
    meta: view.meta,
    progress: view.progress,
    result: view.result,
    error: view.error,
    attempts: view.attempts,
    maxAttempts: view.maxAttempts,
    createdAt: view.createdAt,
    startedAt: view.startedAt,
    finishedAt: view.finishedAt,
    updatedAt: view.updatedAt,
    priority: view.priority,
    runAt: view.runAt,
    startBy: view.startBy,
    scheduleId: view.scheduleId,
  };
}
