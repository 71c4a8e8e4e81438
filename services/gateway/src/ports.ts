import type { IndexEntry, JobFinished, JobRequested, JobStatus, JobTypeDescriptor, JobView, StoredEvent } from "@jobs/core";
import type { JobState } from "@jobs/nats";

/**
 * The narrow interfaces the HTTP layer sees. NATS adapters implement them for the
 * running service; in-memory fakes implement them for the API tests.
 */

export interface JobStore {
  /**
   * Stores the request event and resolves once it is durably stored (JetStream acked),
   * with its stream sequence. `duplicate` is true when an earlier append with the same
   * msgId had already stored it (the sequence is then that of the earlier copy).
   * Rejects with EventNotStoredError when that cannot be confirmed (no responders,
   * timeout, disconnected): the caller answers 503.
   */
  append(event: JobRequested, msgId: string): Promise<{ seq: number; duplicate: boolean }>;
  /**
   * Stores many request events at once (POST /job/batch): every write is started before
   * any acknowledgement is awaited, and it resolves once each one is settled, with one
   * result per request in order. A result is `stored` exactly when `append` would have
   * resolved for it; one failed write does not stop the others. Rejects only on a bug
   * (an invalid event), never for an outage.
   */
  appendMany(requests: readonly { event: JobRequested; msgId: string }[]): Promise<AppendResult[]>;
  /**
   * The current view of a job, or null when no such job exists (including a malformed
   * id). Never null for a job whose append has resolved. Rejects with
   * StoreUnavailableError when the store cannot be read right now.
   */
  get(id: string): Promise<JobView | null>;
  /**
   * The job's events read from the log itself (never the projected view, which may lag:
   * a decision to end a job must see every event), with `lastEventSeq`, the sequence of
   * its last event after the request (0 when it has none): what appendIfUnchanged
   * expects. No events when no such job exists (including a malformed id). Rejects with
   * StoreUnavailableError when the log cannot be read right now.
   */
  readForUpdate(id: string): Promise<JobState>;
  /**
   * Stores the event that ends a job only if nothing was stored for the job since
   * `expectLastEventSeq` (optimistic concurrency against runners and other requests).
   * Rejects with EventConflictError when something was (nothing is stored), with
   * EventNotStoredError when the store did not confirm the write (it may or may not be
   * stored). `duplicate` is true when an event with the same msgId was already stored:
   * that event, not this one, is in the log.
   */
  appendIfUnchanged(event: JobFinished, msgId: string, expectLastEventSeq: number): Promise<{ seq: number; duplicate: boolean }>;
  /**
   * Every event of a job in stream order, read from the log itself (the job's history,
   * not the view). Empty when no such job exists (including a malformed id). Rejects
   * with StoreUnavailableError when the log cannot be read right now.
   */
  history(id: string): Promise<StoredEvent[]>;
  /**
   * The job's view as it changes, until `signal` aborts (the iteration then ends). It may
   * begin with the view as it is now, repeat a view, or skip intermediate ones (a change
   * feed delivers the latest value): callers keep only views whose `seq` is above the
   * last one they used. An outage does not end it: it waits and resumes.
   */
  watch(id: string, signal: AbortSignal): AsyncIterable<JobView>;
  /**
   * One page of an application's jobs, newest first, filtered (see job-listing.ts).
   * Rejects with InvalidCursorError when `from` is not a position of this listing, with
   * StoreUnavailableError when the store cannot be read right now.
   */
  list(query: JobListQuery): Promise<JobListPage>;
}

/** One write of JobStore.appendMany: stored (as `append` resolves) or not confirmed (as `append` rejects). */
export type AppendResult = { stored: true; seq: number; duplicate: boolean } | { stored: false; error: EventNotStoredError };

/** What an Idempotency-Key claim remembers: the body it came with and the first request's exact event. */
export interface IdempotencyClaim {
  /** Hash of the canonical JSON of the request body (see body-hash.ts). */
  bodyHash: string;
  /** The JobRequested event of the first request, so a later request can store that very event. */
  request: JobRequested;
}

export type ClaimResult = { status: "claimed" } | ({ status: "existing" } & IdempotencyClaim);

export interface IdempotencyStore {
  /**
   * Claims `key` for `app`, atomically: of any number of concurrent claims of one key,
   * exactly one gets "claimed"; every other gets "existing" with the winner's claim.
   * Keys are per application. Rejects with EventNotStoredError when the claim cannot
   * be made or read: no job is created, though the claim itself may have been stored
   * with only its answer lost, and then a retry reads it back as "existing" (its own).
   */
  claim(app: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult>;
}

/** The catalogue of job types runners have announced (a live copy: it changes as runners start). */
export interface JobTypes {
  list(): JobTypeDescriptor[];
  get(name: string): JobTypeDescriptor | undefined;
}

export interface Readiness {
  /** Whether the gateway can take jobs now; `reason` says why not, for operators. */
  check(): Promise<{ ready: boolean; reason?: string }>;
}

/** The event was not confirmed as stored: the job does not (reliably) exist; the client should retry. */
export class EventNotStoredError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EventNotStoredError";
  }
}

/** A read could not be served because the store is unreachable right now. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** Where a listing continues: entries before `before` on page `page` (all of them when absent), then older pages. */
export interface ListPosition {
  page: number;
  before?: number;
}

export interface JobListQuery {
  app: string;
  status?: JobStatus;
  type?: string;
  limit: number;
  /** Continue here (a decoded cursor); from the newest job when absent. */
  from?: ListPosition;
}

export interface JobListPage {
  items: JobView[];
  /** Where the next page starts; null when nothing is left. */
  next: ListPosition | null;
}

/** The listing index as the gateway reads it (IndexStore implements it). */
export interface IndexReader {
  head(app: string): Promise<{ page: number } | null>;
  page(app: string, page: number): Promise<{ entries: readonly IndexEntry[] } | null>;
}

/** A position that is not in this application's listing (a forged cursor, or one from before the index was rebuilt). */
export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidCursorError";
  }
}
