import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { InvalidArgumentError, NoRespondersError, TimeoutError } from "@nats-io/nats-core";

/**
 * Every NATS error the services tell apart, recognised in one place by the classes and
 * codes nats.js exports (`JetStreamApiError`, its `code` the server's err_code). Nothing
 * here reads an error's message: texts change between releases, codes do not.
 */

/** The server's err_codes this project acts on: nats.js's own table and the few it does not name. */
export const ApiCodes = {
  ...JetStreamApiCodes,
  /** "JetStream system temporarily unavailable": no meta or group leader at the moment. */
  TemporarilyUnavailable: 10008,
  /** "insufficient resources" / "no suitable peers for placement": a cluster still assembling. */
  NoSuitablePeers: 10005,
  /** "subjects overlap with an existing stream": another process is creating the same stream. */
  SubjectsOverlap: 10065,
  /** "stream name already in use with a different configuration". */
  StreamNameInUse: 10058,
  /** "replicas > 1 not supported in non-clustered mode". */
  ReplicasNeedACluster: 10074,
} as const;

/** The err_code of a JetStream API error, found through `cause` chains too; undefined for any other error. */
export function apiErrorCode(err: unknown): number | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof JetStreamApiError) return e.code;
  }
  return undefined;
}

/** A check that an error is a JetStream API error with one of `codes`. */
function withCode(...codes: number[]): (err: unknown) => boolean {
  return (err) => codes.includes(apiErrorCode(err) ?? -1);
}

/**
 * A write's expectation failed: the subject's last sequence (a job's last event, a KV
 * key's revision) is not the one expected. For a KV create, the key already exists.
 */
export const isWrongLastSequence = withCode(ApiCodes.StreamWrongLastSequence, ApiCodes.StreamWrongLastSequenceUnknown);

/** The stream or the consumer asked for does not exist. */
export const isNotFound = withCode(ApiCodes.StreamNotFound, ApiCodes.ConsumerNotFound);

/** The client refused to send it at all (a payload over the server's max_payload): no retry can help. */
export function isRefusedByClient(err: unknown): boolean {
  return err instanceof InvalidArgumentError;
}

/** A request that got no reply in time: a publish may or may not have been stored. */
export function isUnanswered(err: unknown): boolean {
  return err instanceof TimeoutError;
}

/**
 * Worth asking again in a moment: no reply, nobody listening yet (JetStream starting),
 * or a cluster without a leader or without enough servers yet.
 */
export function isTransient(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
  }
  return isLeaderlessOrAssembling(err);
}

const isLeaderlessOrAssembling = withCode(ApiCodes.TemporarilyUnavailable, ApiCodes.NoSuitablePeers);

/** Another process created the same stream or bucket at the same moment. */
export const isCreationRace = withCode(ApiCodes.SubjectsOverlap, ApiCodes.StreamNameInUse);

/** A server of one node was asked for more than one replica. */
export const needsCluster = withCode(ApiCodes.ReplicasNeedACluster);

/** nats.js's API error, for tests and fakes that stand in for the server. */
export function apiError(code: number, description: string, status = 400): JetStreamApiError {
  return new JetStreamApiError({ err_code: code, code: status, description });
}
