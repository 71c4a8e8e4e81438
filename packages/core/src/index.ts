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
