import {
  decodeEvent,
  encodeEvent,
  evolve,
  foldEvents,
  isJobId,
  InvalidEventError,
  type JobEvent,
  type JobFinished,
  type JobRequested,
  type JobView,
  type StoredEvent,
} from "@jobs/core";
import { requested } from "@jobs/core/testing";
import { EventConflictError, lastEventSeq, type JobState } from "@jobs/nats";
import { EventFeed, followView } from "./fake-event-feed.ts";
import { fakeListingIndex } from "./fake-listing-index.ts";
import { listJobs } from "../src/jobs/job-listing.ts";
import {
  EventNotStoredError,
  type AppendResult,
  type JobListPage,
  type JobListQuery,
  type JobStore,
} from "../src/ports.ts";

/**
 * What an outage does to a write: it is not confirmed (EventNotStoredError) either way,
 * and the event was either never stored ("dropped") or stored with only the answer lost
 * ("stored"). `false`: no outage.
 */
export type Outage = false | "dropped" | "stored";

/** JetStream's duplicate window as the stream is provisioned (provision.ts). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * An event log in memory that answers as the NATS adapter does:
 * - every event is checked and stored as encodeEvent/decodeEvent would (InvalidEventError);
 * - a publish is checked as the server checks it, the expectation first, then the
 *   message id within the duplicate window; a refused expectation whose job's last
 *   event carries this very message id is that copy (EventLog.storedCopy), so a request
 *   is deduplicated for good, and a second request of a job under another id is refused;
 * - an outage (`failAppends`) answers EventNotStoredError, having stored or not;
 * - get(), watch() and list() read the projector's views, caught up at once unless the
 *   projector is paused: a job it has not seen is folded from the log, as on a KV miss.
 */
export class FakeJobStore implements JobStore {
  readonly events: StoredEvent[] = [];
  readonly msgIds: string[] = [];
  /** When set, appends reject as a NATS outage would (see Outage). */
  failAppends: Outage = false;
  /** When set, appendMany fails exactly the requests it answers an outage for (a partial outage). */
  failAppendOf: ((event: JobRequested) => Outage) | undefined;
  /** appendMany calls so far: a batch is one call, not one per job. */
  appendManyCalls = 0;
  /**
   * Runs inside appendIfUnchanged, after the caller's read and before the check: a test
   * stores a competing event here (a runner's start or progress) to make the append lose.
   */
  beforeConditionalAppend: ((event: JobFinished) => Promise<void>) | undefined;
  /**
   * The contract lets a repeated message id whose expectation is stale answer either
   * `duplicate` or EventConflictError. false (the server's order): the expectation is
   * checked first; true: the message id is.
   */
  duplicateFirst = false;
  /** The clock of the duplicate window. */
  now: () => number = Date.now;

  private seq = 0;
  private readonly storedAt: number[] = [];
  private projectedSeq = 0;
  private projectorPaused = false;
  private readonly feed = new EventFeed();

  async append(event: JobRequested, msgId: string): Promise<{ seq: number; duplicate: boolean }> {
    return this.requestAs(event, msgId, this.failAppends);
  }

  async appendMany(requests: readonly { event: JobRequested; msgId: string }[]): Promise<AppendResult[]> {
    this.appendManyCalls++;
    const settled = await Promise.allSettled(requests.map(({ event, msgId }) => this.requestAs(event, msgId, this.failAppendOf?.(event) || this.failAppends)));
    const bug = settled.find((s) => s.status === "rejected" && !(s.reason instanceof EventNotStoredError));
    if (bug !== undefined) throw (bug as PromiseRejectedResult).reason; // an invalid event, as in append
    return settled.map((s): AppendResult => (s.status === "fulfilled" ? { stored: true, ...s.value } : { stored: false, error: s.reason as EventNotStoredError }));
  }

  async get(id: string): Promise<JobView | null> {
    return this.projectedView(id) ?? foldEvents(this.eventsOf(id));
  }

  /** Lists with the real listing code over the index the projector has written so far. */
  async list(query: JobListQuery): Promise<JobListPage> {
    return listJobs(fakeListingIndex(this.events.filter((e) => e.seq <= this.projectedSeq)), (id) => this.get(id), query);
  }

  async readForUpdate(id: string): Promise<JobState> {
    const events = this.eventsOf(id);
    return { events, lastEventSeq: lastEventSeq(events) };
  }

  async appendIfUnchanged(event: JobFinished, msgId: string, expectLastEventSeq: number): Promise<{ seq: number; duplicate: boolean }> {
    encodeEvent(event); // an invalid event is a bug, whatever the outage
    const outage = this.failAppends;
    await this.beforeConditionalAppend?.(event);
    return this.through(outage, () => this.publish(event, msgId, expectLastEventSeq));
  }

  /** Every event of the job, in order (the fake's log is its history). */
  async history(id: string): Promise<StoredEvent[]> {
    return this.eventsOf(id);
  }

  /** The projected view now, then the latest one after each catch-up that changed it (see followView). */
  watch(id: string, signal: AbortSignal): AsyncIterable<JobView> {
    if (!isJobId(id)) return (async function* () {})(); // as the adapter: no key of an arbitrary string
    return followView(this.feed, () => this.projectedView(id), signal);
  }

  /** Watches open now: a test asserts 0 once its client has gone. */
  get watchers(): number {
    return this.feed.size;
  }

  /** Stops the projector: get(), watch() and list() keep what it had folded until resumeProjector(). */
  pauseProjector(): void {
    this.projectorPaused = true;
  }

  /** The projector folds everything stored so far (watches see the latest views); a paused one stays paused. */
  catchUp(): void {
    this.projectedSeq = this.seq;
    this.feed.publish();
  }

  /** Catches the projector up with the log and keeps it caught up. */
  resumeProjector(): void {
    this.projectorPaused = false;
    this.catchUp();
  }

  /** Stores a later event of a job unconditionally, as a runner would (a start, progress, a finish); its sequence. */
  async seedEvent(event: JobEvent, msgId = `${event.jobId}:${event.type}:${this.seq + 1}`): Promise<number> {
    return this.publish(event, msgId).seq;
  }

  /** Adds a job owned by `app`, as if that application had created it (whatever `failAppends` says). */
  async seedJob(app: string, jobId: string, jobType = "sum"): Promise<JobView> {
    const event = requested({ jobId, app, jobType, params: SAMPLE_PARAMS[jobType] ?? {}, time: new Date().toISOString() });
    const { seq } = this.publish(event, `${jobId}:requested`);
    return evolve(null, { seq, event })!;
  }

  /** The request events stored so far: what a test asserts is empty after an error. */
  get appended(): JobRequested[] {
    return this.events.flatMap((e) => (e.event.type === "JobRequested" ? [e.event] : []));
  }

  /** The events stored after the requests: what a test asserts is empty after a refused cancel. */
  get later(): JobEvent[] {
    return this.events.flatMap((e) => (e.event.type === "JobRequested" ? [] : [e.event]));
  }

  private async requestAs(event: JobRequested, msgId: string, outage: Outage): Promise<{ seq: number; duplicate: boolean }> {
    encodeEvent(event); // an invalid event is a bug, whatever the outage
    return this.through(outage, () => {
      try {
        return this.publish(event, msgId, "nothing of the job");
      } catch (err) {
        // NatsJobStore.append answers a refused request as any write it could not store.
        if (err instanceof EventConflictError) throw new EventNotStoredError(`fake: job ${event.jobId} already has events`, { cause: err });
        throw err;
      }
    });
  }

  /** The write as an outage lets it through: not at all ("dropped"), or with its answer lost ("stored"; stored or refused, the caller hears EventNotStoredError). */
  private through<T>(outage: Outage, write: () => T): T {
    if (outage === false) return write();
    if (outage === "dropped") throw new EventNotStoredError("fake outage: no responders");
    try {
      write();
    } catch (err) {
      if (err instanceof InvalidEventError) throw err;
    }
    throw new EventNotStoredError("fake outage: the ack was lost");
  }

  /**
   * One publish as the server and EventLog.append take it: `expect` is the last sequence
   * on the job's event subject, or "nothing of the job" (a request: no event of the job
   * on any subject). The message id is remembered for DUPLICATE_WINDOW_MS.
   */
  private publish(event: JobEvent, msgId: string, expect?: number | "nothing of the job"): { seq: number; duplicate: boolean } {
    const decoded = decodeEvent(encodeEvent(event)); // what a reader of the stream gets back
    const withinWindow = (): number | undefined => {
      const i = this.msgIds.lastIndexOf(msgId);
      return i >= 0 && this.now() - this.storedAt[i]! < DUPLICATE_WINDOW_MS ? this.events[i]!.seq : undefined;
    };
    if (this.duplicateFirst && withinWindow() !== undefined) return { seq: withinWindow()!, duplicate: true };
    if (expect !== undefined && !this.expectationHolds(event, expect)) {
      const ours = this.lastOnSubjectOf(event);
      if (ours !== undefined && this.msgIds[this.events.indexOf(ours)] === msgId) return { seq: ours.seq, duplicate: true };
      throw new EventConflictError(event.jobId, expect === "nothing of the job" ? 0 : expect);
    }
    const earlier = withinWindow();
    if (earlier !== undefined) return { seq: earlier, duplicate: true };
    this.seq += 1;
    this.events.push({ seq: this.seq, event: decoded });
    this.msgIds.push(msgId);
    this.storedAt.push(this.now());
    if (!this.projectorPaused) this.catchUp();
    return { seq: this.seq, duplicate: false };
  }

  private expectationHolds(event: JobEvent, expect: number | "nothing of the job"): boolean {
    const events = this.eventsOf(event.jobId);
    return expect === "nothing of the job" ? events.length === 0 : lastEventSeq(events) === expect;
  }

  /** The job's last message on the subject `event` goes to (its request subject, or its event subject). */
  private lastOnSubjectOf(event: JobEvent): StoredEvent | undefined {
    const isRequest = event.type === "JobRequested";
    return this.eventsOf(event.jobId).findLast((e) => (e.event.type === "JobRequested") === isRequest);
  }

  private projectedView(id: string): JobView | null {
    return foldEvents(this.eventsOf(id).filter((e) => e.seq <= this.projectedSeq));
  }

  private eventsOf(id: string): StoredEvent[] {
    return this.events.filter((e) => e.event.jobId === id);
  }
}

/** One valid params value per built-in type (jobs-create.unit.test.ts checks that each type has one its schema accepts). */
export const SAMPLE_PARAMS: Record<string, unknown> = {
  fibonacci: { n: 10 },
  pi: { digits: 5 },
  countdown: { seconds: 1 },
  sum: { a: 1.5, b: -2 },
  sleep: { ms: 0 },
  external: { anything: ["goes", 1, null] },
};
