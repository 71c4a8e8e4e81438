/**
 * The one module that knows every JetStream name: stream, subjects, consumers, buckets.
 * Everything is derived from a prefix so that a test (or a second deployment on the same
 * server) can isolate itself by choosing another one.
 *
 * Subject layout (one stream holds both families):
 *   <prefix>.requested.<jobId>  the JobRequested event: one message per job. Runners
 *                               consume this family only, so their work queue is the
 *                               request subjects and nothing else.
 *   <prefix>.event.<jobId>      every later event of the job, in order. A literal
 *                               per-job subject: history is one indexed lookup, and the
 *                               conditional writes after the request expect the last
 *                               sequence of this subject.
 *   <prefix>.routed.<jobId>     the JobRequested of a job that does not go straight to the
 *   <prefix>.routed-high.<jobId>  runners: a priority other than normal, a runAt or a
 *   <prefix>.routed-low.<jobId>   startBy; one family per priority, so that routing a
 *                               burst of low jobs never holds up a high one. Runners route
 *                               them into the dispatch stream.
 *   <prefix>.*.<jobId>          all of them (jobSubjects): the request is written only when
 *                               nothing of the job is stored yet, checked by the server
 *                               over this wildcard, so a job is requested once forever,
 *                               not only within the duplicate window.
 *
 * The dispatch stream (<PREFIX>_DISPATCH) is operational state, never history: what waits
 * for a time and what is ready for a runner, by priority. It can be purged or lost; the
 * runners restore it from the event stream (see dispatch-repair in the runner).
 *   <prefix>.dispatch.ready.<priority>.<jobId>  a job ready to start: {jobId, attempt}.
 *                               One consumer per priority, which runners read highest first.
 *   <prefix>.dispatch.wait.<jobId>     the one-shot server schedule (`@at`) of a job waiting
 *                               for its runAt or a retry's backoff; fires into its ready subject.
 *   <prefix>.dispatch.expiry.<jobId>   the one-shot schedule of a job's startBy; fires into
 *   <prefix>.dispatch.expired.<jobId>  which runners read to end the job if it has not started.
 *   <prefix>.dispatch.marker    one message the runners write when the stream is complete:
 *                               missing means purged or lost, and a repair is due.
 */
import { PRIORITIES, type JobPriority } from "./job-priority.ts";

/** The subject family of routed requests of a priority: `routed` for normal ones. */
const routedFamily = (priority: JobPriority) => (priority === "normal" ? "routed" : `routed-${priority}`);

const PREFIX_PATTERN = /^[a-z][a-z0-9_-]{0,30}$/;

export interface JobNames {
  readonly prefix: string;
  /** The event stream: limits retention, delete and purge denied. */
  readonly stream: string;
  readonly streamSubjects: readonly string[];
  requestSubject(jobId: string): string;
  /** Filter of the runners' durable consumer. */
  readonly requestFilter: string;
  /** Subject of the JobRequested of a job the runners reach through the dispatch stream. */
  routedSubject(jobId: string, priority: JobPriority): string;
  /** Filter of the runners' routing consumer of one priority. */
  routedFilter(priority: JobPriority): string;
  /** Every subject a job's JobRequested may be on, the common one first. */
  requestSubjects(jobId: string): readonly string[];
  eventSubject(jobId: string): string;
  readonly eventFilter: string;
  /** Every subject of one job (its request and its events): a wildcard over both families. */
  jobSubjects(jobId: string): string;
  /** Durable pull consumer shared by every runner process (normal jobs due at once). */
  readonly runnerConsumer: string;
  /** Durable consumer of one priority's routed requests, shared by the runners. */
  routingConsumer(priority: JobPriority): string;
  /** The dispatch stream: WorkQueue retention, message schedules allowed. */
  readonly dispatchStream: string;
  readonly dispatchSubjects: readonly string[];
  readySubject(priority: JobPriority, jobId: string): string;
  readyFilter(priority: JobPriority): string;
  /** Durable consumer of one priority's ready jobs, shared by the runners. */
  readyConsumer(priority: JobPriority): string;
  waitSubject(jobId: string): string;
  expirySubject(jobId: string): string;
  expiredSubject(jobId: string): string;
  readonly expiredFilter: string;
  /** Durable consumer of fired expiries, shared by the runners. */
  readonly expiryConsumer: string;
  readonly dispatchMarkerSubject: string;
  /** Durable pull consumer of the projector. */
  readonly projectorConsumer: string;
  /** KV bucket holding the folded job views, key = job id. */
  readonly viewBucket: string;
  /** KV bucket where runners publish the job types they can run, key = type name. */
  readonly typesBucket: string;
  /** KV bucket of Idempotency-Key claims, key = application + hash of the key. */
  readonly idempotencyBucket: string;
  /**
   * KV bucket of the listing index the projector keeps for `GET /job` (see job-index.ts):
   * per application, a chain of pages of its jobs in creation order.
   */
  readonly indexBucket: string;
  /** Key of an application's head: the number of its newest page. */
  indexHeadKey(app: string): string;
  /** Key of page `page` (1, 2, ...) of an application's chain. */
  indexPageKey(app: string, page: number): string;
  /**
   * Core NATS subject (outside the stream) where projectors publish what each flush
   * folded (JobMetricsDelta, job-metrics.ts) and gateways listen for GET /metrics.
   */
  readonly metricsSubject: string;
}

export function jobNames(prefix = "jobs"): JobNames {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`invalid prefix "${prefix}": lower-case letters, digits, "_" or "-", starting with a letter`);
  }
  const upper = prefix.toUpperCase().replaceAll("-", "_");
  return {
    prefix,
    stream: upper,
    streamSubjects: [`${prefix}.requested.*`, `${prefix}.event.*`, ...PRIORITIES.map((p) => `${prefix}.${routedFamily(p)}.*`)],
    requestSubject: (jobId) => `${prefix}.requested.${jobId}`,
    requestFilter: `${prefix}.requested.*`,
    routedSubject: (jobId, priority) => `${prefix}.${routedFamily(priority)}.${jobId}`,
    routedFilter: (priority) => `${prefix}.${routedFamily(priority)}.*`,
    requestSubjects: (jobId) => [`${prefix}.requested.${jobId}`, ...PRIORITIES.map((p) => `${prefix}.${routedFamily(p)}.${jobId}`)],
    eventSubject: (jobId) => `${prefix}.event.${jobId}`,
    eventFilter: `${prefix}.event.*`,
    jobSubjects: (jobId) => `${prefix}.*.${jobId}`,
    runnerConsumer: `${prefix}-runners`,
    routingConsumer: (priority) => (priority === "normal" ? `${prefix}-routing` : `${prefix}-routing-${priority}`),
    dispatchStream: `${upper}_DISPATCH`,
    dispatchSubjects: [`${prefix}.dispatch.>`],
    readySubject: (priority, jobId) => `${prefix}.dispatch.ready.${priority}.${jobId}`,
    readyFilter: (priority) => `${prefix}.dispatch.ready.${priority}.*`,
    readyConsumer: (priority) => `${prefix}-ready-${priority}`,
    waitSubject: (jobId) => `${prefix}.dispatch.wait.${jobId}`,
    expirySubject: (jobId) => `${prefix}.dispatch.expiry.${jobId}`,
    expiredSubject: (jobId) => `${prefix}.dispatch.expired.${jobId}`,
    expiredFilter: `${prefix}.dispatch.expired.*`,
    expiryConsumer: `${prefix}-expiry`,
    dispatchMarkerSubject: `${prefix}.dispatch.marker`,
    projectorConsumer: `${prefix}-projector`,
    viewBucket: `${prefix}-view`,
    typesBucket: `${prefix}-types`,
    idempotencyBucket: `${prefix}-idempotency`,
    indexBucket: `${prefix}-index`,
    indexHeadKey: (app) => `${app}.head`,
    indexPageKey: (app, page) => `${app}.p.${page}`,
    metricsSubject: `${prefix}.metrics`,
  };
}

/** The job id is the last token of every per-job subject (both streams). */
export function jobIdFromSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}
