import { evolve, foldEvents, InvalidEventError, messageIds, newJobId, type JobEvent, type JobView } from "@jobs/core";
import { cancelled, progressed, requested, started, succeeded } from "@jobs/core/testing";
import { EventConflictError } from "@jobs/nats";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../../test/support/eventually.ts";
import { InvalidCursorError, type JobStore, type ListPosition } from "../../src/ports.ts";

/**
 * What every JobStore promises (the doc comments of ports.ts), written once and run
 * against the fake (ports-on-fakes.unit.test.ts) and the NATS adapter on a real
 * nats-server (ports-on-nats.int.test.ts). Where the port leaves a choice, a case
 * accepts each honest answer: a view may lag until the projector catches up, a watch may
 * skip views, a repeated message id with a stale expectation may be a duplicate or a
 * conflict.
 */
export interface JobStoreSubject {
  store: JobStore;
  /** Stores a later event of a job unconditionally, as a runner does; resolves with its sequence. */
  record(event: JobEvent, msgId: string): Promise<number>;
  /** Resolves once the projector's views and listing index hold every event stored so far. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

const request = (data: Parameters<typeof requested>[0] = {}) => requested({ jobId: newJobId(), time: new Date().toISOString(), ...data });
/** A view as the fold makes it: the projector's place in the listing (`indexPage`) is its own. */
const unplaced = (view: JobView | null | undefined) => {
  if (!view) return view;
  const { indexPage: _, ...rest } = view;
  return rest;
};
/** What a write answered: the first copy's sequence for a duplicate, "stored" or "conflict". */
const answerOf = (write: Promise<{ seq: number; duplicate: boolean }>) =>
  write.then(
    (r) => (r.duplicate ? { duplicate: r.seq } : "stored"),
    (err: unknown) => (err instanceof EventConflictError ? "conflict" : Promise.reject(err)),
  );

export function jobStoreContract(name: string, make: () => Promise<JobStoreSubject>): void {
  describe(`JobStore contract: ${name}`, () => {
    let subject: JobStoreSubject | undefined;
    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });
    const open = async () => (subject = await make());
    const appendRequest = async (store: JobStore, data: Parameters<typeof requested>[0] = {}) => {
      const event = request(data);
      const { seq } = await store.append(event, messageIds.requested(event.jobId));
      return { seq, event, id: event.jobId };
    };

    describe("appending requests", () => {
      it("append resolves once stored, with its sequence, and get answers the job from then on", async () => {
        const { store } = await open();
        const event = request();
        const answer = await store.append(event, messageIds.requested(event.jobId));
        expect(answer).toEqual({ seq: expect.any(Number), duplicate: false });
        expect(unplaced(await store.get(event.jobId))).toEqual(evolve(null, { seq: answer.seq, event }));
        expect(await store.history(event.jobId)).toEqual([{ seq: answer.seq, event }]);
      });

      it("a repeated message id is stored once: the repeat answers the first copy's sequence as a duplicate", async () => {
        const { store } = await open();
        const { seq, event, id } = await appendRequest(store);
        expect(await store.append(event, messageIds.requested(id))).toEqual({ seq, duplicate: true });
        expect(await store.history(id)).toHaveLength(1);
      });

      it("a request appended again after its job moved on is still that request (a duplicate), not a second one", async () => {
        const { store, record } = await open();
        const { seq, event, id } = await appendRequest(store);
        const start = await record(started(1, { jobId: id }), messageIds.started(id, 1));
        expect(await store.append(event, messageIds.requested(id))).toEqual({ seq, duplicate: true });
        expect((await store.history(id)).map((e) => e.seq)).toEqual([seq, start]);
      });

      it("a second request of a job under another message id is refused, and nothing is stored", async () => {
        const { store } = await open();
        const { seq, id } = await appendRequest(store);
        await expect(store.append(request({ jobId: id }), `${id}:another`)).rejects.toThrow();
        expect((await store.history(id)).map((e) => e.seq)).toEqual([seq]);
      });

      it("appendMany answers each request in order, as append would: stored, a duplicate of an earlier copy", async () => {
        const { store } = await open();
        const earlier = await appendRequest(store);
        const fresh = request();
        const results = await store.appendMany([
          { event: earlier.event, msgId: messageIds.requested(earlier.id) },
          { event: fresh, msgId: messageIds.requested(fresh.jobId) },
        ]);
        expect(results).toEqual([
          { stored: true, seq: earlier.seq, duplicate: true },
          { stored: true, seq: expect.any(Number), duplicate: false },
        ]);
        const { seq } = results[1] as { seq: number };
        expect(await store.history(fresh.jobId)).toEqual([{ seq, event: fresh }]);
      });

      it("an invalid event is refused with InvalidEventError by every write, and nothing is stored", async () => {
        const { store } = await open();
        const bad = request({ maxAttempts: 0 });
        const id = bad.jobId;
        await expect(store.append(bad, messageIds.requested(id))).rejects.toBeInstanceOf(InvalidEventError);
        await expect(store.appendMany([{ event: bad, msgId: messageIds.requested(id) }])).rejects.toBeInstanceOf(InvalidEventError);
        const { id: queued } = await appendRequest(store);
        const ending = cancelled(0, { jobId: queued });
        const badEnding = { ...ending, data: { ...ending.data, attempt: -1 } };
        await expect(store.appendIfUnchanged(badEnding, messageIds.cancelled(queued), 0)).rejects.toBeInstanceOf(InvalidEventError);
        expect(await store.history(id)).toEqual([]);
        expect(await store.history(queued)).toHaveLength(1);
      });
    });

    describe("reading a job", () => {
      it("history and readForUpdate hold the job's own events in stream order, request first; lastEventSeq is 0 until an event follows", async () => {
        const { store, record } = await open();
        const { seq, event, id } = await appendRequest(store);
        const other = await appendRequest(store);
        expect(await store.readForUpdate(id)).toEqual({ events: [{ seq, event }], lastEventSeq: 0 });
        const start = started(1, { jobId: id });
        const progress = progressed(1, 50, { jobId: id });
        const startSeq = await record(start, messageIds.started(id, 1));
        await record(started(1, { jobId: other.id }), messageIds.started(other.id, 1));
        const progressSeq = await record(progress, messageIds.progress(id, 1, 1));
        const events = [
          { seq, event },
          { seq: startSeq, event: start },
          { seq: progressSeq, event: progress },
        ];
        expect(await store.history(id)).toEqual(events);
        expect(await store.readForUpdate(id)).toEqual({ events, lastEventSeq: progressSeq });
      });

      it("a missing or malformed id is no job: get null, no events, lastEventSeq 0", async () => {
        const { store } = await open();
        await appendRequest(store);
        for (const id of [newJobId(), "not-a-job", "a.b", "*", ">", ""]) {
          expect(await store.get(id)).toBeNull();
          expect(await store.history(id)).toEqual([]);
          expect(await store.readForUpdate(id)).toEqual({ events: [], lastEventSeq: 0 });
        }
      });

      it("get answers a view the job has had, and once the projector has caught up, the fold of all its events", async () => {
        const { store, record, caughtUp } = await open();
        const { id } = await appendRequest(store);
        await record(started(1, { jobId: id }), messageIds.started(id, 1));
        const early = await store.get(id);
        await record(succeeded(1, 3, { jobId: id }), messageIds.finished(id));
        const history = await store.history(id);
        expect(unplaced(early)).toEqual(foldEvents(history.filter((e) => e.seq <= early!.seq)));
        await caughtUp();
        expect(unplaced(await store.get(id))).toEqual(foldEvents(history));
      });
    });

    describe("conditional appends", () => {
      it("at the sequence read, stores the event; readForUpdate then expects its sequence", async () => {
        const { store, record } = await open();
        const { id } = await appendRequest(store);
        const startSeq = await record(started(1, { jobId: id }), messageIds.started(id, 1));
        const { lastEventSeq } = await store.readForUpdate(id);
        expect(lastEventSeq).toBe(startSeq);
        const cancel = cancelled(1, { jobId: id });
        const answer = await store.appendIfUnchanged(cancel, messageIds.cancelled(id), lastEventSeq);
        expect(answer).toEqual({ seq: expect.any(Number), duplicate: false });
        expect(await store.readForUpdate(id)).toMatchObject({ lastEventSeq: answer.seq });
        expect((await store.history(id)).at(-1)).toEqual({ seq: answer.seq, event: cancel });
      });

      it("against a stale sequence, is refused with EventConflictError, and nothing is stored", async () => {
        const { store, record } = await open();
        const { id } = await appendRequest(store);
        const before = await store.readForUpdate(id);
        await record(started(1, { jobId: id }), messageIds.started(id, 1));
        await expect(store.appendIfUnchanged(cancelled(0, { jobId: id }), messageIds.cancelled(id), before.lastEventSeq)).rejects.toBeInstanceOf(
          EventConflictError,
        );
        expect((await store.history(id)).map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted"]);
      });

      it("the same message again stores nothing: at the current sequence a duplicate of the first copy; at a stale one that, or a conflict", async () => {
        const { store, record } = await open();
        const { id } = await appendRequest(store);
        const first = await store.appendIfUnchanged(cancelled(0, { jobId: id }), messageIds.cancelled(id), 0);
        const again = () => cancelled(0, { jobId: id, time: new Date().toISOString() });
        expect(await store.appendIfUnchanged(again(), messageIds.cancelled(id), first.seq)).toEqual({ seq: first.seq, duplicate: true });
        // Which the server checks first, the expectation or the message id, the port leaves open.
        expect([{ duplicate: first.seq }, "conflict"]).toContainEqual(await answerOf(store.appendIfUnchanged(again(), messageIds.cancelled(id), 0)));
        await record(progressed(1, 10, { jobId: id }), messageIds.progress(id, 1, 1)); // our copy is no longer the last event
        expect([{ duplicate: first.seq }, "conflict"]).toContainEqual(await answerOf(store.appendIfUnchanged(again(), messageIds.cancelled(id), 0)));
        expect((await store.history(id)).filter((e) => e.event.type === "JobFinished")).toHaveLength(1);
      });
    });

    describe("watching a job", () => {
      it("delivers the job's latest view sooner or later (not necessarily each one), each a view the job had; ends when the signal aborts", async () => {
        const { store, record, caughtUp } = await open();
        const { id } = await appendRequest(store);
        const stop = new AbortController();
        const seen: JobView[] = [];
        const watching = (async () => {
          for await (const view of store.watch(id, stop.signal)) seen.push(view);
        })();
        await record(started(1, { jobId: id }), messageIds.started(id, 1));
        await record(progressed(1, 50, { jobId: id }), messageIds.progress(id, 1, 1));
        const last = await record(succeeded(1, 3, { jobId: id }), messageIds.finished(id));
        await caughtUp();
        await eventually(() => expect(seen.map((v) => v.seq)).toContain(last));
        const history = await store.history(id);
        for (const view of seen) expect(unplaced(view)).toEqual(foldEvents(history.filter((e) => e.seq <= view.seq)));
        stop.abort();
        await watching;
      });

      it("of a malformed id, delivers nothing and ends when the signal aborts", async () => {
        const { store } = await open();
        const stop = new AbortController();
        const seen: JobView[] = [];
        const watching = (async () => {
          for await (const view of store.watch("not-a-job", stop.signal)) seen.push(view);
        })();
        stop.abort();
        await watching;
        expect(seen).toEqual([]);
      });
    });

    describe("listing", () => {
      it("lists an application's jobs newest first, in pages of `limit` joined by `next`, until next is null", async () => {
        const { store, caughtUp } = await open();
        const mine: string[] = [];
        for (let i = 0; i < 5; i++) {
          mine.push((await appendRequest(store, { app: "alpha" })).id);
          if (i % 2 === 0) await appendRequest(store, { app: "beta" });
        }
        await caughtUp();
        const listed: string[][] = [];
        let from: ListPosition | undefined;
        do {
          const page = await store.list({ app: "alpha", limit: 2, from });
          listed.push(page.items.map((j) => j.id));
          from = page.next ?? undefined;
        } while (from !== undefined && listed.length < 10);
        expect(listed).toEqual([mine.slice(3).reverse(), mine.slice(1, 3).reverse(), [mine[0]]]);
      });

      it("filters by status and type, on the jobs as they are now", async () => {
        const { store, record, caughtUp } = await open();
        const done = (await appendRequest(store)).id;
        const napping = (await appendRequest(store, { jobType: "sleep", params: { ms: 0 } })).id;
        const running = (await appendRequest(store)).id;
        const queued = (await appendRequest(store)).id;
        for (const id of [done, running]) await record(started(1, { jobId: id }), messageIds.started(id, 1));
        await record(succeeded(1, 3, { jobId: done }), messageIds.finished(done));
        await caughtUp();
        const ids = async (q: { status?: "queued" | "running" | "succeeded"; type?: string }) =>
          (await store.list({ app: "alpha", limit: 10, ...q })).items.map((j) => [j.id, j.status]);
        expect(await ids({ status: "queued" })).toEqual([
          [queued, "queued"],
          [napping, "queued"],
        ]);
        expect(await ids({ type: "sum" })).toEqual([
          [queued, "queued"],
          [running, "running"],
          [done, "succeeded"],
        ]);
        expect(await ids({ status: "succeeded", type: "sum" })).toEqual([[done, "succeeded"]]);
        expect(await ids({ type: "pi" })).toEqual([]);
      });

      it("answers an application without jobs with an empty page, and a position past the newest page with InvalidCursorError", async () => {
        const { store, caughtUp } = await open();
        await appendRequest(store);
        await caughtUp();
        expect(await store.list({ app: "gamma", limit: 10 })).toEqual({ items: [], next: null });
        await expect(store.list({ app: "alpha", limit: 10, from: { page: 2 } })).rejects.toBeInstanceOf(InvalidCursorError);
      });
    });
  });
}
