import { foldEvents, type JobEvent, type JobTypeDescriptor } from "@jobs/core";
import { cancelled, started } from "@jobs/core/testing";
import { EventConflictError, EventLog, jetstream, jetstreamManager } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.ts";
import type { JobStore } from "../src/ports.ts";
import { gatewayOnNats, type GatewayOnNats } from "./gateway-on-harness.ts";

const auth = { authorization: "Bearer tok" };
const TYPES: JobTypeDescriptor[] = [
  { name: "sum", description: "a + b", params: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } } },
  { name: "external", description: "done outside", params: {} },
];

/** Cancel and complete on the app wired as main.ts wires it, on a real nats-server, with no runner and no projector. */
describe("cancel and complete on NATS", () => {
  let g: GatewayOnNats;
  let jobs: JobStore;
  let events: EventLog; // what a runner writes with

  beforeAll(async () => {
    g = await gatewayOnNats({ types: TYPES, appendTimeoutMs: 2_000 });
    jobs = g.deps.jobs;
    events = new EventLog(jetstream(g.nc), await jetstreamManager(g.nc), g.names);
  });
  afterAll(async () => {
    await g?.close();
  });

  async function create(type = "sum"): Promise<string> {
    const res = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type, params: type === "sum" ? { a: 1, b: 2 } : {} } });
    expect(res.statusCode).toBe(202);
    return res.json().id;
  }
  const post = (id: string, action: "cancel" | "complete", payload?: object) =>
    g.app.inject({ method: "POST", url: `/job/${id}/${action}`, headers: auth, ...(payload ? { payload } : {}) });
  const stored = async (id: string): Promise<JobEvent[]> => (await events.read(id)).map((e) => e.event);

  it("cancels a queued job: the stream holds its JobFinished cancelled; a second cancel is a 409", async () => {
    const id = await create();
    const res = await post(id, "cancel", { reason: "not needed" });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id, status: "cancelled", error: { code: "cancelled", message: "not needed" } });

    expect(await stored(id)).toEqual([
      expect.objectContaining({ type: "JobRequested" }),
      { type: "JobFinished", jobId: id, time: res.json().finishedAt, data: { attempt: 0, outcome: "cancelled", error: res.json().error } },
    ]);
    expect((await g.app.inject({ method: "GET", url: `/job/${id}`, headers: auth })).json()).toEqual(res.json());
    expect((await post(id, "cancel")).statusCode).toBe(409);
    expect(await stored(id)).toHaveLength(2);
  });

  it("a queued job cancelled before a runner starts it: the runner's conditional JobStarted loses", async () => {
    const id = await create();
    const { lastEventSeq } = await events.readForUpdate(id); // the runner looks at the job: no event yet
    expect(lastEventSeq).toBe(0);
    expect((await post(id, "cancel")).statusCode).toBe(202);
    const late = started(1, { jobId: id, runner: "late" });
    await expect(events.append(late, `${id}:started:1`, { expectLastEventSeq: lastEventSeq })).rejects.toBeInstanceOf(EventConflictError);
    expect((await stored(id)).map((e) => e.type)).toEqual(["JobRequested", "JobFinished"]);
  });

  it("a runner's start racing a cancel: exactly one is first, never a start after the cancel", async () => {
    for (let i = 0; i < 10; i++) {
      const id = await create();
      // The runner reads, then starts on condition that nothing happened since, as the real one does.
      const runner = events
        .readForUpdate(id)
        .then(({ lastEventSeq }) => events.append(started(1, { jobId: id, runner: "racer" }), `${id}:started:1`, { expectLastEventSeq: lastEventSeq }))
        .then(
          () => "started",
          (err: unknown) => (err instanceof EventConflictError ? "lost" : Promise.reject(err)),
        );
      const [start, cancelled] = await Promise.all([runner, post(id, "cancel")]);
      expect(cancelled.statusCode).toBe(202); // a cancel that lost re-decides, and a running job can be cancelled
      const types = (await stored(id)).map((e) => (e.type === "JobFinished" ? `JobFinished@${e.data.attempt}` : e.type));
      expect(types).toEqual(start === "started" ? ["JobRequested", "JobStarted", "JobFinished@1"] : ["JobRequested", "JobFinished@0"]);
    }
  });

  it("a runner starting the job between the cancel's read and write: the cancel re-reads and cancels the running job", async () => {
    const id = await create();
    let interleaved = 0;
    // The real store, with a runner's start slipped in once, right before the cancel's conditional append.
    const racing: JobStore = Object.assign(Object.create(jobs) as JobStore, {
      appendIfUnchanged: async (...args: Parameters<JobStore["appendIfUnchanged"]>) => {
        if (interleaved++ === 0) await events.append(started(1, { jobId: id }), `${id}:started:1`, { expectLastEventSeq: 0 });
        return jobs.appendIfUnchanged(...args);
      },
    });
    const raceApp = buildApp({ ...g.deps, jobs: racing, tokens: new Map([["tok", "alpha"]]) });
    try {
      const res = await raceApp.inject({ method: "POST", url: `/job/${id}/cancel`, headers: auth });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ status: "cancelled", attempts: 1 });
    } finally {
      await raceApp.close();
    }
    expect(interleaved).toBe(2);
    const types = (await stored(id)).map((e) => (e.type === "JobFinished" ? `JobFinished@${e.data.attempt}` : e.type));
    expect(types).toEqual(["JobRequested", "JobStarted", "JobFinished@1"]);
  });

  it("the store refuses an ending decided on a stale read (EventConflictError), storing nothing", async () => {
    const id = await create();
    const before = await jobs.readForUpdate(id);
    expect(before.lastEventSeq).toBe(0);
    expect(foldEvents(before.events)).toMatchObject({ status: "queued" });
    const { seq } = await events.append(started(1, { jobId: id }), `${id}:started:1`, { expectLastEventSeq: 0 });

    const cancel = cancelled(0, { jobId: id });
    await expect(jobs.appendIfUnchanged(cancel, `${id}:cancel`, 0)).rejects.toBeInstanceOf(EventConflictError);
    const after = await jobs.readForUpdate(id);
    expect(after.lastEventSeq).toBe(seq);
    expect(foldEvents(after.events)).toMatchObject({ status: "running", attempts: 1 });
    expect((await stored(id)).map((e) => e.type)).toEqual(["JobRequested", "JobStarted"]);
  });

  it("completes an external job put in running state, then refuses a second completion", async () => {
    const id = await create("external");
    expect((await post(id, "complete", { result: 1 })).statusCode).toBe(409); // queued: no runner started it
    await events.append(started(1, { jobId: id, runner: "outside-runner" }), `${id}:started:1`, { expectLastEventSeq: 0 });

    const res = await post(id, "complete", { result: { invoice: "A-17" } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: "succeeded", result: { invoice: "A-17" }, attempts: 1 });
    expect((await stored(id)).at(-1)).toEqual({
      type: "JobFinished",
      jobId: id,
      time: res.json().finishedAt,
      data: { attempt: 1, outcome: "succeeded", result: { invoice: "A-17" } },
    });

    const again = await post(id, "complete", { error: "too late" });
    expect(again.statusCode).toBe(409);
    expect(again.json().type).toBe("/problems/job-already-ended");
    expect(await stored(id)).toHaveLength(3);
  });

  it("a second ending under the same message id stores nothing, whatever the server answers first", async () => {
    const id = await create();
    expect((await post(id, "cancel")).statusCode).toBe(202);
    const again = cancelled(0, { jobId: id });
    // Within the duplicate window the server may answer "duplicate" or "wrong last sequence": endJob treats both as "re-read".
    const answer = await jobs.appendIfUnchanged(again, `${id}:cancel`, 0).then(
      (r) => (r.duplicate ? "duplicate" : "stored"),
      (err: unknown) => (err instanceof EventConflictError ? "changed" : Promise.reject(err)),
    );
    expect(["duplicate", "changed"]).toContain(answer);
    expect((await stored(id)).filter((e) => e.type === "JobFinished")).toHaveLength(1);
  });
});
