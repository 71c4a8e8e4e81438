import {
  evolve,
  foldEvents,
  type JobEvent,
  type JobFinished,
  type JobRequested,
  type JobTypeDescriptor,
  type JobView,
  type StoredEvent,
} from "@jobs/core";
import { requested } from "@jobs/core/testing";
import { EventConflictError, lastEventSeq, type JobState } from "@jobs/nats";
import { EventFeed, followJob } from "./fake-event-feed.ts";
import { fakeListingIndex } from "./fake-listing-index.ts";
import { listJobs } from "../src/jobs/job-listing.ts";
import {
  EventNotStoredError,
  type AppendResult,
  type ClaimResult,
  type IdempotencyClaim,
  type IdempotencyStore,
  type JobListPage,
  type JobListQuery,
  type JobStore,
  type JobTypes,
  type Readiness,
} from "../src/ports.ts";

/**
 * In-memory stand-ins for the gateway's ports: the API tests run through `inject`
 * against these and never touch NATS.
 */

/**
 * An event log in memory: appends get increasing sequences; a repeated message id is
 * stored once and answers the first copy's sequence with `duplicate` (JetStream's
 * dedup, without its time window); get() folds a job's events like the real store.
 * A conditional append checks the job's last event sequence as JetStream's expected
 * last subject sequence does (after the dedup check, as the server does).
 */
export class FakeJobStore implements JobStore {
  readonly events: StoredEvent[] = [];
  readonly msgIds: string[] = [];
  /** When set, appends reject as a NATS outage would (and store nothing). */
  failAppends = false;
  /**
   * Runs inside appendIfUnchanged, after the caller's read and before the check: a test
   * stores a competing event here (a runner's start or progress) to make the append lose.
   */
  beforeConditionalAppend: ((event: JobFinished) => Promise<void>) | undefined;
  private seq = 0;

  async append(event: JobRequested, msgId: string): Promise<{ seq: number; duplicate: boolean }> {
    if (this.failAppends) throw new EventNotStoredError("fake outage: no responders");
    return this.store(event, msgId);
  }

  /** When set, appendMany leaves unstored exactly the requests it returns true for (a partial outage). */
  failAppendOf: ((event: JobRequested) => boolean) | undefined;
  /** appendMany calls so far: a batch is one call, not one per job. */
  appendManyCalls = 0;

  async appendMany(requests: readonly { event: JobRequested; msgId: string }[]): Promise<AppendResult[]> {
    this.appendManyCalls++;
    const results: AppendResult[] = [];
    for (const { event, msgId } of requests) {
      if (this.failAppends || this.failAppendOf?.(event)) results.push({ stored: false, error: new EventNotStoredError("fake: not acknowledged") });
      else results.push({ stored: true, ...this.store(event, msgId) });
    }
    return results;
  }

  async get(id: string): Promise<JobView | null> {
    return foldEvents(this.eventsOf(id));
  }

  /** Lists with the real listing code over the index a caught-up projector would have written. */
  async list(query: JobListQuery): Promise<JobListPage> {
    return listJobs(fakeListingIndex(this.events), (id) => this.get(id), query);
  }

  async readForUpdate(id: string): Promise<JobState> {
    const events = this.eventsOf(id);
    return { events, lastEventSeq: lastEventSeq(events) };
  }

  async appendIfUnchanged(event: JobFinished, msgId: string, expectLastEventSeq: number): Promise<{ seq: number; duplicate: boolean }> {
    if (this.failAppends) throw new EventNotStoredError("fake outage: no responders");
    await this.beforeConditionalAppend?.(event);
    const earlier = this.msgIds.indexOf(msgId);
    if (earlier >= 0) return { seq: this.events[earlier]!.seq, duplicate: true };
    if (lastEventSeq(this.eventsOf(event.jobId)) !== expectLastEventSeq) throw new EventConflictError(event.jobId, expectLastEventSeq);
    return this.store(event, msgId);
  }

  /** Stores a later event of a job unconditionally, as a runner would (a start, progress, a finish). */
  async seedEvent(event: JobEvent): Promise<number> {
    return (await this.store(event, `${event.jobId}:${event.type}:${this.seq + 1}`)).seq;
  }

  /** The events stored after the requests: what a test asserts is empty after a refused cancel. */
  get later(): JobEvent[] {
    return this.events.flatMap((e) => (e.event.type === "JobRequested" ? [] : [e.event]));
  }

  /** Every event of the job, in order (the fake's log is its history). */
  async history(id: string): Promise<StoredEvent[]> {
    return this.eventsOf(id);
  }

  /** The view now, then after each event of the job that changes it (see followJob). */
  watch(id: string, signal: AbortSignal): AsyncIterable<JobView> {
    return followJob(this.feed, () => this.eventsOf(id), id, signal);
  }

  /** Watches open now: a test asserts 0 once its client has gone. */
  get watchers(): number {
    return this.feed.size;
  }

  private readonly feed = new EventFeed();

  private eventsOf(id: string): StoredEvent[] {
    return this.events.filter((e) => e.event.jobId === id);
  }

  private store(event: JobEvent, msgId: string): { seq: number; duplicate: boolean } {
    const earlier = this.msgIds.indexOf(msgId);
    if (earlier >= 0) return { seq: this.events[earlier]!.seq, duplicate: true };
    this.seq += 1;
    this.events.push({ seq: this.seq, event });
    this.msgIds.push(msgId);
    this.feed.publish({ seq: this.seq, event });
    return { seq: this.seq, duplicate: false };
  }

  /** The request events appended so far: what a test asserts is empty after an error. */
  get appended(): JobRequested[] {
    return this.events.flatMap((e) => (e.event.type === "JobRequested" ? [e.event] : []));
  }

  /** Adds a job owned by `app`, as if that application had created it. */
  async seedJob(app: string, jobId: string, jobType = "sum"): Promise<JobView> {
    const event = requested({ jobId, app, jobType, params: SAMPLE_PARAMS[jobType] ?? {}, time: new Date().toISOString() });
    const { seq } = await this.append(event, `${jobId}:requested`);
    return evolve(null, { seq, event })!;
  }
}

/** Idempotency-Key claims in a Map: the first claim of an (app, key) wins, as the KV create does. */
export class FakeIdempotencyStore implements IdempotencyStore {
  readonly claims = new Map<string, IdempotencyClaim>();
  /** When set, claim rejects as a NATS outage would (and claims nothing). */
  failClaims = false;

  async claim(app: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult> {
    if (this.failClaims) throw new EventNotStoredError("fake outage: no responders");
    const existing = this.claims.get(FakeIdempotencyStore.keyOf(app, key));
    if (existing !== undefined) return { status: "existing", ...structuredClone(existing) };
    this.claims.set(FakeIdempotencyStore.keyOf(app, key), structuredClone(claim));
    return { status: "claimed" };
  }

  static keyOf(app: string, key: string): string {
    return JSON.stringify([app, key]);
  }
}

export class FakeJobTypes implements JobTypes {
  private readonly types = new Map<string, JobTypeDescriptor>();
  constructor(descriptors: JobTypeDescriptor[] = BUILT_IN_TYPES) {
    for (const d of descriptors) this.types.set(d.name, d);
  }
  list(): JobTypeDescriptor[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  get(name: string): JobTypeDescriptor | undefined {
    return this.types.get(name);
  }
}

export class FakeReadiness implements Readiness {
  ready = true;
  reason = "fake: NATS disconnected";
  async check(): Promise<{ ready: boolean; reason?: string }> {
    return this.ready ? { ready: true } : { ready: false, reason: this.reason };
  }
}

const int = (minimum: number, maximum: number) => ({ type: "integer", minimum, maximum });
const object = (properties: Record<string, unknown>) => ({
  type: "object",
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

/** The built-in job types of the contract, as a runner would announce them (plain JSON Schema). */
export const BUILT_IN_TYPES: JobTypeDescriptor[] = [
  { name: "fibonacci", description: "F(n) as a decimal string", params: object({ n: int(0, 100_000) }) },
  { name: "pi", description: "digits of pi, truncated", params: object({ digits: int(1, 100_000) }) },
  { name: "countdown", description: "counts down, progress every second", params: object({ seconds: int(1, 3600) }) },
  { name: "sum", description: "a + b", params: object({ a: { type: "number" }, b: { type: "number" } }) },
  { name: "sleep", description: "waits ms milliseconds", params: object({ ms: int(0, 3_600_000) }) },
  { name: "external", description: "completed by an outside system", params: {} },
];

/** One valid params value per built-in type. */
export const SAMPLE_PARAMS: Record<string, unknown> = {
  fibonacci: { n: 10 },
  pi: { digits: 5 },
  countdown: { seconds: 1 },
  sum: { a: 1.5, b: -2 },
  sleep: { ms: 0 },
  external: { anything: ["goes", 1, null] },
};
