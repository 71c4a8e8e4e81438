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
 *   <prefix>.*.<jobId>          both (jobSubjects): the request is written only when
 *                               nothing of the job is stored yet, checked by the server
 *                               over this wildcard, so a job is requested once forever,
 *                               not only within the duplicate window.
 */
const PREFIX_PATTERN = /^[a-z][a-z0-9_-]{0,30}$/;

export interface JobNames {
  readonly prefix: string;
  /** The event stream: limits retention, delete and purge denied. */
  readonly stream: string;
  readonly streamSubjects: readonly string[];
  requestSubject(jobId: string): string;
  /** Filter of the runners' durable consumer. */
  readonly requestFilter: string;
  eventSubject(jobId: string): string;
  readonly eventFilter: string;
  /** Every subject of one job (its request and its events): a wildcard over both families. */
  jobSubjects(jobId: string): string;
  /** Durable pull consumer shared by every runner process. */
  readonly runnerConsumer: string;
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
    streamSubjects: [`${prefix}.requested.*`, `${prefix}.event.*`],
    requestSubject: (jobId) => `${prefix}.requested.${jobId}`,
    requestFilter: `${prefix}.requested.*`,
    eventSubject: (jobId) => `${prefix}.event.${jobId}`,
    eventFilter: `${prefix}.event.*`,
    jobSubjects: (jobId) => `${prefix}.*.${jobId}`,
    runnerConsumer: `${prefix}-runners`,
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

/** The job id is the last token of both subject families. */
export function jobIdFromSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}
