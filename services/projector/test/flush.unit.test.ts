import { describe, expect, it } from "vitest";
import { decodeView, encodeEvent, encodeView, FOLD_VERSION, foldEvents, readStoredView, type JobEvent, type JobView, type StoredEvent } from "@jobs/core";
import { apiError, ApiCodes } from "@jobs/nats";
import { createLogger } from "@jobs/service";
import { flushBatch, type FlushDeps, type InboundMessage } from "../src/flush.ts";
import { IndexWriter } from "../src/index-writer.ts";
import type { HistoryPort, ViewPort } from "../src/ports.ts";
import { ViewCache } from "../src/view-cache.ts";
import { FakeIndex, unplaced } from "./fake-index.ts";

/** The flush against in-memory fakes of the view bucket and the stream. */
const time = "2025-01-01T00:00:00.000Z";
const requested = (jobId: string): JobEvent => ({
  type: "JobRequested",
  jobId,
  time,
  data: { app: "a", jobType: "sum", params: {}, meta: {}, maxAttempts: 3, timeoutMs: 1000, runAt: null },
});
const started = (jobId: string, attempt = 1): JobEvent => ({ type: "JobStarted", jobId, time, data: { attempt, runner: "r" } });
const progress = (jobId: string, percent: number): JobEvent => ({ type: "JobProgress", jobId, time, data: { attempt: 1, percent } });

/** A KV fake with revisions, compare-and-set, values stored as ViewStore stores them, and writes that fail for chosen jobs. */
class FakeViews implements ViewPort {
  readonly data = new Map<string, { value: Uint8Array | string; revision: number }>();
  readonly failing = new Set<string>();
  /** Jobs whose every save loses a race (another writer puts the value again, at a new revision). */
  readonly contested = new Set<string>();
  writes = 0;
  gets = 0;
  private revision = 0;

  async readForUpdate(jobId: string) {
    this.gets++;
    const e = this.data.get(jobId);
    return e === undefined ? null : readStoredView(e.value, jobId, e.revision);
  }

  async save(view: JobView, revision: number | null) {
    if (this.failing.has(view.id)) throw new Error("TIMEOUT");
    if (this.contested.has(view.id)) this.putRaw(view.id, this.data.get(view.id)!.value);
    if ((this.data.get(view.id)?.revision ?? null) !== revision) throw apiError(ApiCodes.StreamWrongLastSequence, "wrong last sequence: 7");
    this.writes++;
    this.data.set(view.id, { value: encodeView(view), revision: ++this.revision });
    return this.revision;
  }

  /** The stored view (undefined when none), as the tests compare it. */
  view(jobId: string): JobView | undefined {
    const e = this.data.get(jobId);
    return e === undefined ? undefined : decodeView(e.value, jobId).view;
  }

  /** Another writer (a second projector) moves the key. */
  writeBehindOurBack(view: JobView) {
    this.putRaw(view.id, encodeView(view));
  }

  /** Another writer (an older release, a broken tool) puts a value of its own. */
  putRaw(jobId: string, value: Uint8Array | string) {
    this.data.set(jobId, { value, revision: ++this.revision });
  }
}

class FakeStream implements HistoryPort {
  readonly events: StoredEvent[] = [];
  reads = 0;
  append(event: JobEvent): StoredEvent {
    const stored = { seq: this.events.length + 1, event };
    this.events.push(stored);
    return stored;
  }
  async read(jobId: string) {
    this.reads++;
    return this.events.filter((e) => e.event.jobId === jobId);
  }
  fold(jobId: string) {
    return foldEvents(this.events.filter((e) => e.event.jobId === jobId));
  }
}

const settled: string[] = [];
const message = (stored: StoredEvent, data: Uint8Array = encodeEvent(stored.event)): InboundMessage => ({
  seq: stored.seq,
  subject: `t.event.${stored.event.jobId}`,
  data,
  ack: () => settled.push(`ack ${stored.seq}`),
  nak: () => settled.push(`nak ${stored.seq}`),
});

function setup() {
  settled.length = 0;
  const views = new FakeViews();
  const stream = new FakeStream();
  const index = new FakeIndex();
  const deps: FlushDeps = {
    views,
    history: stream,
    cache: new ViewCache(100),
    index: new IndexWriter(index),
    log: createLogger("test", "silent"),
    writeConcurrency: 8,
    nakDelayMs: 0,
  };
  return { views, stream, index, deps };
}

describe("flushBatch", () => {
  it("writes each job once per flush and acks every message after its write", async () => {
    const { views, stream, deps } = setup();
    const batch = [requested("A"), requested("B"), started("A"), progress("A", 10), started("B"), progress("A", 20)].map((e) => message(stream.append(e)));
    const stats = await flushBatch(batch, deps);
    expect(views.writes).toBe(2);
    expect(views.gets).toBe(0); // new jobs: no read before the create
    expect(stream.reads).toBe(0); // in order: no resync
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
    expect(unplaced(views.view("B")!)).toEqual(stream.fold("B"));
    expect(settled.toSorted()).toEqual(batch.map((m) => `ack ${m.seq}`).toSorted());
    expect(stats).toMatchObject({ messages: 6, jobs: 2, written: 2, poison: 0, handedBack: 0 });
  });

  it("skips the write when nothing changed, and needs no read when the view is cached", async () => {
    const { views, stream, deps } = setup();
    const first = [requested("A"), started("A")].map((e) => stream.append(e));
    await flushBatch(first.map((s) => message(s)), deps);
    const writes = views.writes;
    await flushBatch([message(first[1]!)], deps); // the same event delivered again
    expect(views.writes).toBe(writes);
    await flushBatch([message(stream.append(progress("A", 50)))], deps);
    expect(views.gets).toBe(0);
    expect(stream.reads).toBe(0);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
  });

  it("naks the messages of a job whose write failed, in order, and keeps the other acks", async () => {
    const { views, stream, deps } = setup();
    views.failing.add("B");
    const batch = [requested("A"), requested("B"), started("B"), started("A"), progress("B", 5)].map((e) => message(stream.append(e)));
    const stats = await flushBatch(batch, deps);
    expect(settled.filter((s) => s.startsWith("nak"))).toEqual(["nak 2", "nak 3", "nak 5"]);
    expect(settled.filter((s) => s.startsWith("ack")).toSorted()).toEqual(["ack 1", "ack 4"]);
    expect(stats.handedBack).toBe(3);
    expect(views.data.has("B")).toBe(false);

    // The handed-back events come back after a newer one was folded: the job resyncs from the stream.
    views.failing.delete("B");
    settled.length = 0;
    const later = stream.append(progress("B", 50));
    await flushBatch([message(later)], deps);
    expect(unplaced(views.view("B")!)).toEqual(stream.fold("B"));
    await flushBatch(batch.filter((m) => [2, 3, 5].includes(m.seq)), deps);
    expect(unplaced(views.view("B")!)).toEqual(stream.fold("B"));
    expect(settled.every((s) => s.startsWith("ack"))).toBe(true);
  });

  it("refolds a job from the stream when an event overtook an older one", async () => {
    const { views, stream, deps } = setup();
    const [r, s, p] = [requested("A"), started("A"), progress("A", 40)].map((e) => stream.append(e));
    await flushBatch([message(r!), message(p!)], deps); // the JobStarted is still with a dead projector
    await flushBatch([message(s!)], deps); // ... and comes back after ack_wait
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
    expect(views.view("A")!).toMatchObject({ status: "running", progress: { percent: 40 }, seq: 3 });
  });

  it("does not read the stream for late events of a job that has ended", async () => {
    const { views, stream, deps } = setup();
    const finished: JobEvent = { type: "JobFinished", jobId: "A", time, data: { attempt: 1, outcome: "succeeded", result: 1 } };
    await flushBatch([requested("A"), started("A"), finished].map((e) => message(stream.append(e))), deps);
    const writes = views.writes;
    await flushBatch([message(stream.append(progress("A", 99))), message(stream.append(started("A", 2)))], deps);
    expect(stream.reads).toBe(0);
    expect(views.writes).toBe(writes);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
  });

  it("folds a job whose JobRequested arrives after its later events", async () => {
    const { views, stream, deps } = setup();
    const [r, s] = [requested("A"), started("A")].map((e) => stream.append(e));
    const stats = await flushBatch([message(s!)], deps);
    expect(stats.poison).toBe(0);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
    await flushBatch([message(r!)], deps);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
  });

  it("re-reads and re-folds on a revision conflict", async () => {
    const { views, stream, deps } = setup();
    await flushBatch([message(stream.append(requested("A")))], deps);
    const s = stream.append(started("A"));
    views.writeBehindOurBack(foldEvents([stream.events[0]!, s])!); // a second projector folded the start
    const p = stream.append(progress("A", 70));
    await flushBatch([message(s), message(p)], deps);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
    expect(settled).toContain(`ack ${p.seq}`);
  });

  it("retries the jobs that lost a race, and hands back the events of one that keeps losing", async () => {
    const { views, stream, deps } = setup();
    await flushBatch(["A", "B", "C"].map((id) => message(stream.append(requested(id)))), deps);
    for (const id of ["A", "B"]) views.writeBehindOurBack({ ...stream.fold(id)!, updatedAt: "2025-01-01T00:00:09.000Z" }); // moved by another projector
    views.contested.add("C");
    settled.length = 0;
    const batch = ["A", "B", "C"].map((id) => message(stream.append(started(id))));
    const stats = await flushBatch(batch, deps);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
    expect(unplaced(views.view("B")!)).toEqual(stream.fold("B"));
    expect(stats).toMatchObject({ written: 2, handedBack: 1 });
    expect(settled.toSorted()).toEqual([`ack ${batch[0]!.seq}`, `ack ${batch[1]!.seq}`, `nak ${batch[2]!.seq}`]);
  });

  it("acks poison: undecodable messages and events of jobs with no JobRequested", async () => {
    const { views, stream, deps } = setup();
    const orphan = stream.append(started("Z"));
    const garbage = stream.append(requested("G"));
    const stats = await flushBatch([message(orphan), message(garbage, new TextEncoder().encode("{not json"))], deps);
    expect(stats.poison).toBe(2);
    expect(settled.toSorted()).toEqual([`ack ${orphan.seq}`, `ack ${garbage.seq}`]);
    expect(views.data.size).toBe(0);
  });
});

describe("flushBatch and the listing index", () => {
  const finished = (jobId: string): JobEvent => ({ type: "JobFinished", jobId, time, data: { attempt: 1, outcome: "succeeded", result: 1 } });

  it("appends new jobs in stream order, records the page in each view, and updates the status in place", async () => {
    const { views, stream, index, deps } = setup();
    const ids = ["J1", "J2", "J3", "J4"];
    await flushBatch(ids.map((id) => message(stream.append(requested(id)))), deps);
    expect(index.chain("a").map(([page, e]) => [page, e.id, e.status])).toEqual(ids.map((id) => [1, id, "queued"]));
    for (const id of ids) expect(views.view(id)!.indexPage).toBe(1);

    await flushBatch([message(stream.append(started("J2"))), message(stream.append(finished("J3")))], deps);
    expect(index.chain("a").map(([, e]) => e.status)).toEqual(["queued", "running", "succeeded", "queued"]);
    expect(index.chain("a").find(([, e]) => e.id === "J3")![1].seq).toBe(views.view("J3")!.seq);
  });

  it("writes each changed index page once per flush, and nothing when no status changed", async () => {
    const { stream, index, deps } = setup();
    const ids = Array.from({ length: 20 }, (_, i) => `K${i}`);
    await flushBatch(ids.map((id) => message(stream.append(requested(id)))), deps);
    expect(index.writes).toBe(2); // page 1 and the head
    await flushBatch(ids.map((id) => message(stream.append(started(id)))), deps);
    expect(index.writes).toBe(3);
    await flushBatch(ids.map((id) => message(stream.append(progress(id, 50)))), deps);
    expect(index.writes).toBe(3);
    expect(index.reads).toBe(2); // the first flush read the (missing) head and page; then the cache served
  });

  it("hands the events back and writes no view when the index cannot be written", async () => {
    const { views, stream, index, deps } = setup();
    index.beforeWrite = () => {
      throw new Error("TIMEOUT");
    };
    const stats = await flushBatch([message(stream.append(requested("A")))], deps);
    expect(stats.handedBack).toBe(1);
    expect(settled).toEqual(["nak 1"]);
    expect(views.data.size).toBe(0);

    index.beforeWrite = undefined;
    await flushBatch([message(stream.events[0]!)], deps);
    expect(views.view("A")!.indexPage).toBe(1);
    expect(index.chain("a").map(([, e]) => e.id)).toEqual(["A"]);
  });

  it("indexes a job once when its view write failed after its entry was written", async () => {
    const { views, stream, index, deps } = setup();
    views.failing.add("A");
    const r = stream.append(requested("A"));
    await flushBatch([message(r), message(stream.append(requested("B")))], deps);
    expect(views.data.has("A")).toBe(false);
    views.failing.delete("A");
    await flushBatch([message(r)], deps); // redelivered
    expect(index.chain("a").map(([, e]) => e.id)).toEqual(["A", "B"]);
    expect(views.view("A")!.indexPage).toBe(1);
  });

  it("leaves the append to whoever folds the JobRequested message, so two projectors never both append a job", async () => {
    const { views, stream, index, deps } = setup();
    const [r, s] = [requested("A"), started("A")].map((e) => stream.append(e));
    await flushBatch([message(s!)], deps); // another projector holds the request: this one resyncs from the stream
    expect(views.view("A")!.status).toBe("running");
    expect(views.view("A")!.indexPage).toBeUndefined();
    expect(index.data.size).toBe(0);
    await flushBatch([message(r!)], deps); // the request's projector: nothing to fold, but the job is indexed
    expect(views.view("A")!).toMatchObject({ status: "running", indexPage: 1 });
    expect(index.chain("a").map(([, e]) => [e.id, e.status])).toEqual([["A", "running"]]);
  });

  it("keeps the entry an attempt put in the index when its view write lost a race", async () => {
    const { views, stream, index, deps } = setup();
    const r = stream.append(requested("A"));
    views.writeBehindOurBack(foldEvents([r])!); // a resyncing projector created the view (with no page) first
    await flushBatch([message(r)], deps);
    expect(views.view("A")!.indexPage).toBe(1);
    expect(index.chain("a").map(([, e]) => e.id)).toEqual(["A"]);
  });

  it("leaves out of the index a job whose application name cannot be a key", async () => {
    const { views, stream, index, deps } = setup();
    const odd: JobEvent = { ...requested("A"), data: { ...(requested("A").data as object), app: "a.b" } } as JobEvent;
    const stats = await flushBatch([message(stream.append(odd))], deps);
    expect(stats.written).toBe(1);
    expect(views.view("A")!.indexPage).toBeUndefined();
    expect(index.data.size).toBe(0);
  });
});

describe("flushBatch and the fold version of stored views", () => {
  const restarted = (deps: FlushDeps): FlushDeps => ({ ...deps, cache: new ViewCache(100) }); // nothing cached: every view is read

  it("refolds a view of another fold version from the stream, keeps its index page, and rewrites it with this version", async () => {
    const { views, stream, index, deps } = setup();
    await flushBatch([message(stream.append(requested("A")))], deps);
    const written = views.view("A")!;
    // As an older fold would have left it: another version, another shape of the same events.
    views.putRaw("A", JSON.stringify({ ...written, meta: { folded: "differently" }, foldVersion: FOLD_VERSION + 1 }));
    const stats = await flushBatch([message(stream.append(started("A")))], restarted(deps));
    expect(stats).toMatchObject({ written: 1, untrusted: 1, resynced: 0 });
    expect(stream.reads).toBe(1);
    expect(views.view("A")).toEqual({ ...stream.fold("A"), indexPage: 1 });
    expect(decodeView(views.data.get("A")!.value).foldVersion).toBe(FOLD_VERSION);
    expect(index.chain("a").map(([page, e]) => [page, e.id, e.status])).toEqual([[1, "A", "running"]]);
  });

  it("rewrites a view of another fold version even when the refold comes out the same", async () => {
    const { views, stream, deps } = setup();
    const r = stream.append(requested("A"));
    await flushBatch([message(r)], deps);
    views.putRaw("A", JSON.stringify({ ...views.view("A")!, foldVersion: FOLD_VERSION + 1 }));
    const stats = await flushBatch([message(r)], restarted(deps)); // a redelivery: nothing new to fold
    expect(stats).toMatchObject({ written: 1, untrusted: 1 });
    expect(decodeView(views.data.get("A")!.value).foldVersion).toBe(FOLD_VERSION);
  });

  it("replaces a value that is not a view with the fold of the stream", async () => {
    const { views, stream, deps } = setup();
    stream.append(requested("A"));
    views.putRaw("A", "{ not a view");
    const s = stream.append(started("A"));
    const stats = await flushBatch([message(s)], deps);
    expect(stats).toMatchObject({ written: 1, untrusted: 1, handedBack: 0 });
    expect(views.view("A")).toEqual(stream.fold("A"));
    expect(settled).toEqual([`ack ${s.seq}`]);
  });

  it("refolds a view stored before views carried a version (fold 1, before priorities) from the stream", async () => {
    const { views, stream, deps } = setup();
    await flushBatch([message(stream.append(requested("A")))], deps);
    const { priority: _p, startBy: _s, scheduleId: _i, ...fold1 } = views.view("A")!;
    views.putRaw("A", JSON.stringify(fold1)); // no foldVersion field, no fields of fold 2
    const stats = await flushBatch([message(stream.append(started("A")))], restarted(deps));
    expect(stats).toMatchObject({ written: 1, untrusted: 1 });
    expect(stream.reads).toBeGreaterThan(0);
    expect(unplaced(views.view("A")!)).toEqual(stream.fold("A"));
  });
});
