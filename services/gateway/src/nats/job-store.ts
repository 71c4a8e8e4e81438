import { foldEvents, InvalidEventError, isJobId, type JobFinished, type JobRequested, type JobView, type StoredEvent } from "@jobs/core";
import { EventConflictError, type EventLog, type JobState, type ViewStore } from "@jobs/nats";
import { listJobs } from "../jobs/job-listing.ts";
import { watchViewKey } from "./view-watch.ts";
import { EventNotStoredError, InvalidCursorError, StoreUnavailableError, type AppendResult, type IndexReader, type JobListPage, type JobListQuery, type JobStore } from "../ports.ts";

export interface NatsJobStoreOptions {
  log: EventLog;
  views: ViewStore;
  /** Whether the NATS connection is up now (see trackConnection). */
  connected: () => boolean;
  /** How long to wait for JetStream's publish ack before the same message is sent again. */
  appendTimeoutMs?: number;
  /**
   * How many times a publish is sent while none is answered (see EventLog.append): an
   * unanswered publish may be stored, so the gateway asks again rather than answer 503
   * for a job that exists.
   */
  appendTries?: number;
  /** A job's view watch failed and is being re-created (for the log). */
  onWatchError?: (err: unknown, jobId: string) => void;
  /** The listing index the projector keeps (an IndexStore). */
  index: IndexReader;
}

/**
 * The gateway's JobStore on JetStream: requests go to the stream (acked before the 202),
 * reads come from the projector's KV view, and when the view does not have the job yet
 * (the projector lags, or KV's read-after-write is not promised) from a fold of the
 * job's own events read back from the stream. So a GET right after its 202 finds the job.
 * Cancels and completions decide on the stream alone and store with an expected last
 * sequence on the job's event subject (see EventLog.append).
 */
export class NatsJobStore implements JobStore {
  private readonly appendTimeoutMs: number;
  private readonly appendTries: number;

  private readonly opts: NatsJobStoreOptions;

  constructor(opts: NatsJobStoreOptions) {
    this.opts = opts;
    this.appendTimeoutMs = opts.appendTimeoutMs ?? 5_000;
    this.appendTries = opts.appendTries ?? 3;
  }

  async append(event: JobRequested, msgId: string): Promise<{ seq: number; duplicate: boolean }> {
    if (!this.opts.connected()) throw new EventNotStoredError("not connected to NATS");
    try {
      const { seq, duplicate } = await this.opts.log.append(event, msgId, { timeoutMs: this.appendTimeoutMs, tries: this.appendTries });
      return { seq, duplicate };
    } catch (err) {
      if (err instanceof InvalidEventError) throw err; // a bug in the caller, not an outage
      // No responders, every try unanswered, closed or draining connection, JetStream API error: no ack, no job.
      throw new EventNotStoredError(`publish of ${event.jobId} not acknowledged: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  /**
   * Pipelined: each append sends its publish before it first waits, so the whole batch
   * is on the wire before any ack comes back, and the acks are awaited together (one
   * round trip for the lot, not one per event).
   */
  async appendMany(requests: readonly { event: JobRequested; msgId: string }[]): Promise<AppendResult[]> {
    const settled = await Promise.allSettled(requests.map(({ event, msgId }) => this.append(event, msgId)));
    return settled.map((s): AppendResult => {
      if (s.status === "fulfilled") return { stored: true, ...s.value };
      if (s.reason instanceof EventNotStoredError) return { stored: false, error: s.reason };
      throw s.reason; // an invalid event: a bug, as in append
    });
  }

  async appendIfUnchanged(event: JobFinished, msgId: string, expectLastEventSeq: number): Promise<{ seq: number; duplicate: boolean }> {
    if (!this.opts.connected()) throw new EventNotStoredError("not connected to NATS");
    try {
      const { seq, duplicate } = await this.opts.log.append(event, msgId, { timeoutMs: this.appendTimeoutMs, tries: this.appendTries, expectLastEventSeq });
      return { seq, duplicate };
    } catch (err) {
      if (err instanceof EventConflictError) throw err;
      if (err instanceof InvalidEventError) throw err;
      // No ack: it may or may not be stored; the caller says so.
      throw new EventNotStoredError(`publish of ${event.type} for ${event.jobId} not acknowledged: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
    }
  }

  async readForUpdate(id: string): Promise<JobState> {
    if (!isJobId(id)) return { events: [], lastEventSeq: 0 };
    return this.readEvents(id, () => this.opts.log.readForUpdate(id));
  }

  async history(id: string): Promise<StoredEvent[]> {
    if (!isJobId(id)) return [];
    return this.readEvents(id, () => this.opts.log.read(id));
  }

  /** A read of the job's events, or StoreUnavailableError; a corrupt event is a bug to see, not an outage. */
  private async readEvents<T>(id: string, read: () => Promise<T>): Promise<T> {
    // A read while disconnected would only wait for its timeout.
    if (!this.opts.connected()) throw new StoreUnavailableError("not connected to NATS");
    try {
      return await read();
    } catch (err) {
      if (err instanceof InvalidEventError) throw err;
      throw new StoreUnavailableError(`reading the events of job ${id} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  /** The projector's view of the job, from a KV watch on its key (see watchViewKey). */
  watch(id: string, signal: AbortSignal): AsyncIterable<JobView> {
    if (!isJobId(id)) return (async function* () {})(); // never a key from an arbitrary string
    const onError = this.opts.onWatchError;
    return watchViewKey(this.opts.views.kv, id, signal, { onError: onError && ((err) => onError(err, id)) });
  }

  async get(id: string): Promise<JobView | null> {
    if (!isJobId(id)) return null; // never turn an arbitrary string into a key or subject
    try {
      const entry = await this.opts.views.get(id);
      if (entry !== null) return entry.view;
      return foldEvents(await this.opts.log.read(id));
    } catch (err) {
      if (err instanceof InvalidEventError) throw err; // a corrupt event is a bug to see, not an outage
      throw new StoreUnavailableError(`reading job ${id} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  /** A page of the listing: the index names the jobs, their views (or, when missing, their events) are the answer. */
  async list(query: JobListQuery): Promise<JobListPage> {
    try {
      return await listJobs(this.opts.index, (id) => this.get(id), query);
    } catch (err) {
      if (err instanceof InvalidCursorError || err instanceof InvalidEventError || err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`listing the jobs of ${query.app} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }
}
