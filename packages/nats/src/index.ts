export { connectNats, serverTooOld, MIN_SERVER_VERSION } from "./connection.ts";
export {
  ensureStream,
  ensureRunnerConsumer,
  ensureProjectorConsumer,
  openViewBucket,
  openTypesBucket,
  openIdempotencyBucket,
  openIndexBucket,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  streamConfig,
  type ReplicaOptions,
  RUNNER_ACK_WAIT_MS,
  PROJECTOR_ACK_WAIT_MS,
} from "./provision.ts";
export { EventLog, EventConflictError, lastEventSeq } from "./event-log.ts";
export { ViewStore, type ViewEntry } from "./view-store.ts";
export { ApiCodes, apiError, isNotFound, isRefusedByClient, isTransient, isUnanswered, isWrongLastSequence } from "./errors.ts";
export { IndexStore, type IndexHeadEntry, type IndexPageEntry } from "./index-store.ts";
export { announceJobTypes, JobTypeCatalog } from "./type-registry.ts";
export { connect, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from "./clients.ts";
export { DeliverPolicy, type ConsumerMessages, type JsMsg } from "./clients.ts";
export { handleCommand, type CommandResult, type ConditionalAppend, type HandleCommandOptions, type JobState, type JobStateReader } from "./handle-command.ts";
export { ensureDispatch, dispatchStreamConfig, provisionRunners } from "./provision-dispatch.ts";
export { DispatchLog, decodeDispatch, newDispatch, type Dispatch } from "./dispatch-log.ts";
