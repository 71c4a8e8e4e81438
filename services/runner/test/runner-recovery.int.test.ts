import type { JobPriority } from "@jobs/core";
import { jetstream, jetstreamManager, RUNNER_ACK_WAIT_MS } from "@jobs/nats";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { startNatsServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { FINISH_WATCH_DELAY_MS } from "../src/finish-watch.ts";
import { defineJobType } from "../src/job-type.ts";
import { finishOf, openHarness, typesOf, useRunnerHarness, type Harness } from "./fixtures/runner-harness.ts";

/** Redeliveries, cancels, shutdowns, crashes and outages: how the runner hands work back and picks it up. */
const harness = useRunnerHarness();
let h: Harness;

const cancel = (jobId: string) =>
  h.events.append(
    { type: "JobFinished", jobId, time: new Date().toISOString(), data: { attempt: 0, outcome: "cancelled", error: { code: "cancelled", message: "cancelled by test" } } },
    `${jobId}:finished`,
  );

const consumerInfo = async () => (await jetstreamManager(h.nc)).consumers.info(h.names.stream, h.names.runnerConsumer);
const readyInfo = async (priority: JobPriority) => (await jetstreamManager(h.nc)).consumers.info(h.names.dispatchStream, h.names.readyConsumer(priority));
const pendingSchedule = async (jobId: string) =>
  (await (await jetstreamManager(h.nc)).direct.getMessage(h.names.dispatchStream, { last_by_subj: h.names.waitSubject(jobId) })) !== null;

/**
 * The countdown's progress at 1 s left its runner after the finish watch began listening
 * (FINISH_WATCH_DELAY_MS into the attempt, on the same connection): once that progress
 * is in the stream, the watch's subscription is in place.
 */
const progressAfterWatchBegan = async (jobId: string) => {
  expect(FINISH_WATCH_DELAY_MS).toBeLessThan(1_000);
  await eventually(async () => expect(typesOf((await h.history(jobId)).map((s) => s.event)).filter((t) => t === "JobProgress")).toHaveLength(2));
};

describe("runner recovery", () => {
  // Cancelled at once: heard by the read right after the watch subscribes. Cancelled later:
  // heard by the subscription itself.
  it.each([
    ["before its finish watch starts listening", false],
    ["after its finish watch has started listening", true],
  ])("aborts a running job cancelled %s, and acks it without a second finish", async (_when, watchListening) => {
    h = await harness.open();
    const runner = await h.startRunner();
    const jobId = await h.request("countdown", { seconds: 30 });
    await eventually(async () => expect(typesOf((await h.history(jobId)).map((s) => s.event))).toContain("JobStarted"));
    if (watchListening) await progressAfterWatchBegan(jobId);
    await cancel(jobId);

    await eventually(async () => {
      expect(runner.busy).toBe(0);
      expect(await h.ackPending()).toBe(0);
    });
    const events = (await h.history(jobId)).map((s) => s.event);
    expect(events.filter((e) => e.type === "JobFinished")).toHaveLength(1);
    expect(finishOf(events).outcome).toBe("cancelled");
    expect(typesOf(events)).not.toContain("JobAttemptFailed");
  });

  it("never starts a job cancelled before its first delivery", async () => {
    h = await harness.open();
    const jobId = await h.request("countdown", { seconds: 30 });
    await cancel(jobId);
    const runner = await h.startRunner();

    await eventually(async () => {
      const info = await consumerInfo();
      expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(2); // handed back once, then re-checked
      expect(info.num_ack_pending).toBe(0);
    });
    expect(runner.busy).toBe(0);
    expect(typesOf((await h.history(jobId)).map((s) => s.event))).toEqual(["JobRequested", "JobFinished"]);
  });

  it("never runs a delayed job that was cancelled while it waited on the server", async () => {
    h = await harness.open();
    const first = await h.startRunner();
    const jobId = await h.request("sum", { a: 1, b: 1 }, { runAt: new Date(Date.now() + 2_000) });
    // Routed into a schedule of the dispatch stream; with no runner listening, the cancel
    // is in the stream before the schedule fires, however slow the machine.
    await eventually(async () => expect(await pendingSchedule(jobId)).toBe(true));
    await first.stop();
    await cancel(jobId);
    await h.startRunner();

    await eventually(async () => {
      const info = await readyInfo("normal");
      expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(1); // the schedule fired
      expect(info.num_ack_pending).toBe(0); // and the dispatch was acked
    });
    expect(typesOf((await h.history(jobId)).map((s) => s.event))).toEqual(["JobRequested", "JobFinished"]);
  });

  it("hands a job of an unknown type back for a runner that knows it", async () => {
    h = await harness.open();
    const old = await h.startRunner();
    const jobId = await h.request("brand-new", { x: 1 });
    await eventually(async () => expect((await consumerInfo()).delivered.consumer_seq).toBeGreaterThanOrEqual(1));
    await old.stop();

    const brandNew = defineJobType({ name: "brand-new", description: "", params: Type.Object({ x: Type.Number() }), run: ({ x }) => ({ x }) });
    const updated = await h.startRunner({ extraTypes: [brandNew] });
    const events = await h.finished(jobId, 15_000);
    expect(events[1]).toMatchObject({ type: "JobStarted", data: { attempt: 1, runner: updated.runnerId } });
    expect(finishOf(events)).toEqual({ attempt: 1, outcome: "succeeded", result: { x: 1 } });
  });

  it("on shutdown lets short jobs finish and hands long ones to another runner at once, without using up an attempt", async () => {
    h = await harness.open();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    // Short: ends as soon as the test opens its gate. Long: its first attempt runs until interrupted.
    const short = defineJobType({ name: "short", description: "", params: Type.Object({}), run: async () => gate.then(() => ({ ok: true })) });
    const long = defineJobType({
      name: "long",
      description: "",
      params: Type.Object({}),
      run: async (_params, ctx) => {
        if (ctx.attempt === 1) await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
        return { attempt: ctx.attempt };
      },
    });
    const extraTypes = [short, long];
    // The grace only needs to outlast the short job's last writes once its gate opens.
    const first = await h.startRunner({ shutdownGraceMs: 2_000, extraTypes });
    const shortId = await h.request("short", {});
    // One attempt only: the interrupted attempt must not count, or the handed-back job would fail.
    const longId = await h.request("long", {}, { maxAttempts: 1 });
    await eventually(async () => {
      for (const id of [shortId, longId]) expect(typesOf((await h.history(id)).map((s) => s.event))).toContain("JobStarted");
    });

    const stopping = first.stop();
    open(); // the short job ends during the grace period
    const second = await h.startRunner({ extraTypes });
    await stopping;
    expect(first.busy).toBe(0);

    expect(finishOf(await h.finished(shortId))).toMatchObject({ attempt: 1, outcome: "succeeded" });
    const longEvents = await h.finished(longId);
    expect(typesOf(longEvents)).toEqual(["JobRequested", "JobStarted", "JobAttemptFailed", "JobStarted", "JobFinished"]);
    const [interrupted, restarted] = longEvents.filter((e) => e.type === "JobAttemptFailed" || (e.type === "JobStarted" && e.data.attempt === 2));
    expect(interrupted).toMatchObject({ data: { attempt: 1, error: { code: "interrupted" } } });
    expect(restarted).toMatchObject({ data: { attempt: 2, runner: second.runnerId } });
    // Handed back by a nak, not by the consumer's ack wait running out.
    expect(Date.parse(restarted!.time) - Date.parse(interrupted!.time)).toBeLessThan(RUNNER_ACK_WAIT_MS);
    expect(finishOf(longEvents)).toEqual({ attempt: 2, outcome: "succeeded", result: { attempt: 2 } });
  });

  it("counts the attempt of a runner that died, from the stream", async () => {
    h = await harness.open();
    const retried = await h.request("sum", { a: 2, b: 2 }, { maxAttempts: 2 });
    const exhausted = await h.request("sum", { a: 3, b: 3 }, { maxAttempts: 1 });

    // A runner takes both, stores their JobStarted and "dies" (nak instead of waiting out ack_wait).
    const consumer = await jetstream(h.nc).consumers.get(h.names.stream, h.names.runnerConsumer);
    const taken = [];
    while (taken.length < 2) {
      const msg = await consumer.next({ expires: 2_000 });
      if (msg !== null) taken.push(msg);
    }
    for (const msg of taken) {
      const jobId = msg.subject.split(".").at(-1)!;
      await h.events.append({ type: "JobStarted", jobId, time: new Date().toISOString(), data: { attempt: 1, runner: "dead" } }, `${jobId}:started:1`);
    }
    for (const msg of taken) msg.nak();

    await h.startRunner();
    const retriedEvents = await h.finished(retried);
    expect(retriedEvents.filter((e) => e.type === "JobStarted").map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(finishOf(retriedEvents)).toEqual({ attempt: 2, outcome: "succeeded", result: { value: 4 } });
    const exhaustedEvents = await h.finished(exhausted);
    expect(typesOf(exhaustedEvents)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect(finishOf(exhaustedEvents)).toMatchObject({ attempt: 1, outcome: "failed", error: { code: "attempts_exhausted" } });
  });
});

describe("runner during a NATS outage", () => {
  let own: NatsServerHandle;
  afterEach(async () => {
    await h?.close();
    await own?.dispose();
  });

  it("keeps retrying the finish while NATS is down, stores it after the restart and goes on", async () => {
    own = await startNatsServer();
    h = await openHarness(own.url);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    let returned: () => void = () => undefined;
    const done = new Promise<void>((r) => (returned = r));
    const gated = defineJobType({
      name: "gated",
      description: "returns once the test opens its gate, and tells the test",
      params: Type.Object({}),
      run: async () => {
        await gate;
        returned();
        return { ok: true };
      },
    });
    await h.startRunner({ extraTypes: [gated] });
    const jobId = await h.request("gated", {});
    await eventually(async () => expect(typesOf((await h.history(jobId)).map((s) => s.event))).toContain("JobStarted"));

    await own.stop("SIGKILL");
    open();
    await done; // the job returned while NATS was away: its JobFinished cannot be stored yet
    await own.restart();

    const events = await h.finished(jobId, 30_000);
    expect(finishOf(events)).toEqual({ attempt: 1, outcome: "succeeded", result: { ok: true } });
    await eventually(async () => expect(await h.ackPending()).toBe(0), { timeoutMs: 15_000 });

    // The fetch loop recovered too: a new job runs.
    const after = await h.request("sum", { a: 1, b: 2 });
    expect(finishOf(await h.finished(after, 30_000))).toMatchObject({ outcome: "succeeded", result: { value: 3 } });
  });
});
