export { jobNames, jobIdFromSubject, type JobNames } from "./names.ts";
export { messageIds } from "./message-ids.ts";
export { newJobId, isJobId, JOB_ID_PATTERN } from "./ids.ts";
export {
  JobEvent,
  JobRequested,
  JobStarted,
  JobProgress,
  JobAttemptFailed,
  JobFinished,
  JobError,
  JobOutcome,
  InvalidEventError,
  decodeEvent,
  encodeEvent,
  type JobEventType,
  type StoredEvent,
} from "./events.ts";
export { Job, JobStatus, JobProgressView, FINAL_STATUSES, isFinal, toJob, type JobView } from "./job.ts";
export { evolve, foldEvents } from "./evolve.ts";
export { FOLD_VERSION, InvalidViewError, decodeView, encodeView, readStoredView, isTrusted, type DecodedView, type StoredView } from "./stored-view.ts";
export { JobTypeDescriptor } from "./job-type.ts";
export {
  INDEX_PAGE_SIZE,
  IndexEntry,
  IndexPage,
  IndexHead,
  isIndexPage,
  isIndexHead,
  isIndexableApp,
  indexEntryOf,
  recordEntry,
} from "./job-index.ts";
export { JobMetricsDelta, JobMetricsTally, decodeMetricsDelta, encodeMetricsDelta } from "./job-metrics.ts";
export { parseJson } from "./json.ts";
export { LruMap } from "./lru-map.ts";
export { JobErrorCodes, type JobErrorCode } from "./job-errors.ts";
export { retryDelayMs } from "./retry-delay.ts";
export type { Decided, Decision } from "./decision.ts";
export {
  decideCancel,
  decideComplete,
  DEFAULT_CANCEL_MESSAGE,
  EXTERNAL_JOB_TYPE,
  type CancelJob,
  type CompleteJob,
  type EndingDecision,
  type EndingRefusal,
  type ExternalEnding,
} from "./decide-ending.ts";
export {
  decideDelivery,
  decideExpiry,
  dueAt,
  interruptedAttempts,
  UNKNOWN_TYPE_DELAY_MS,
  type DeliveryContext,
  type DeliveryDecision,
  type ExpiryDecision,
} from "./decide-delivery.ts";
export { DEFAULT_PRIORITY, JobPriority, PRIORITIES } from "./job-priority.ts";
export { isRouted, priorityOf, routeOf, type Route } from "./job-routing.ts";
export { decideAttemptEnd, invalidResult, type AttemptEndDecision, type AttemptOutcome, type AttemptRef } from "./decide-attempt-end.ts";
export { attemptProgress } from "./attempt-progress.ts";
