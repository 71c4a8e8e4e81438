import diagnostics from "node:diagnostics_channel";
import type { Worker } from "node:worker_threads";
import { Type } from "typebox";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { defineJobType, NonRetryableError } from "../src/job-type.ts";
import { finishOf, typesOf, useRunnerHarness, type Harness } from "./fixtures/runner-harness.ts";

/** Test-only job types: a job that always throws, one that refuses for good, one that records its concurrency. */
const alwaysFails = defineJobType({
  name: "always-fails",
  description: "throws on every attempt",
  params: Type.Object({}),
  run: (_params, ctx) => {
    throw new Error(`attempt ${ctx.attempt} broke`);
  },
});
const refuses = defineJobType({
  name: "refuses",
  description: "fails for good at once",
  params: Type.Object({}),
  run: () => {
    throw new NonRetryableError("will never work", { code: "permanently_broken" });
  },
});

const harness = useRunnerHarness();
let h: Harness;

describe("runner", () => {
  it("runs a job to JobFinished with its result, events in order", async () => {
    h = await harness.open();
    const runner = await h.startRunner();
    const countdown = await h.request("countdown", { seconds: 1 });
    const fib = await h.request("fibonacci", { n: 90 });

    const events = await h.finished(countdown);
    expect(typesOf(events)).toEqual(["JobRequested", "JobStarted", "JobProgress", "JobProgress", "JobFinished"]);
    expect(events[1]).toMatchObject({ data: { attempt: 1, runner: runner.runnerId } });
    expect(events.slice(2, 4).map((e) => e.data)).toEqual([
      { attempt: 1, percent: 0, message: "1 s left" },
      { attempt: 1, percent: 100, message: "0 s left" },
    ]);
    expect(finishOf(events)).toEqual({ attempt: 1, outcome: "succeeded", result: { seconds: 1 } });

    expect(finishOf(await h.finished(fib))).toEqual({ attempt: 1, outcome: "succeeded", result: { value: "2880067194370816120" } });
    expect(await h.view(fib)).toMatchObject({ status: "succeeded", attempts: 1, result: { value: "2880067194370816120" } });
    await eventually(async () => expect(await h.ackPending()).toBe(0));
  });

  it("retries a throwing job with backoff, then fails it after maxAttempts", async () => {
    h = await harness.open();
    await h.startRunner({ extraTypes: [alwaysFails] });
    const jobId = await h.request("always-fails", {}, { maxAttempts: 3 });

    const events = await h.finished(jobId, 20_000);
    expect(typesOf(events)).toEqual([
      "JobRequested",
      "JobStarted",
      "JobAttemptFailed",
      "JobStarted",
      "JobAttemptFailed",
      "JobStarted",
      "JobFinished",
    ]);
    expect(events.filter((e) => e.type === "JobStarted").map((e) => e.data.attempt)).toEqual([1, 2, 3]);
    expect(finishOf(events)).toEqual({ attempt: 3, outcome: "failed", error: { code: "error", message: "attempt 3 broke" } });
    // Exponential backoff: each failure names its retry 1 s, then 2 s, after it, and the
    // next attempt starts no earlier than that.
    const failures = events.flatMap((e) => (e.type === "JobAttemptFailed" ? [e] : []));
    expect(failures.map((e) => Date.parse(e.data.retryAt) - Date.parse(e.time))).toEqual([1_000, 2_000]);
    const startedAt = events.flatMap((e) => (e.type === "JobStarted" ? [Date.parse(e.time)] : []));
    failures.forEach((failed, i) => expect(startedAt[i + 1]).toBeGreaterThanOrEqual(Date.parse(failed.data.retryAt)));
    expect(await h.view(jobId)).toMatchObject({ status: "failed", attempts: 3, error: { code: "error" } });
  });

  it("succeeds on a later attempt, and a NonRetryableError ends the job at once", async () => {
    h = await harness.open();
    await h.startRunner({ extraTypes: [refuses] });
    const flaky = await h.request("flaky", { failAttempts: 1, mode: "throw" }, { maxAttempts: 3 });
    const refused = await h.request("refuses", {}, { maxAttempts: 5 });

    const flakyEvents = await h.finished(flaky);
    expect(typesOf(flakyEvents)).toEqual(["JobRequested", "JobStarted", "JobAttemptFailed", "JobStarted", "JobFinished"]);
    expect(finishOf(flakyEvents)).toEqual({ attempt: 2, outcome: "succeeded", result: { attempt: 2 } });

    const refusedEvents = await h.finished(refused);
    expect(typesOf(refusedEvents)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect(finishOf(refusedEvents)).toEqual({ attempt: 1, outcome: "failed", error: { code: "permanently_broken", message: "will never work" } });
  });

  it("aborts an attempt on timeout (even one that ignores its signal) and retries it", async () => {
    h = await harness.open();
    const runner = await h.startRunner();
    // An hour's sleep: finishing at all (within h.finished's deadline) is the timeout's doing.
    const sleeper = await h.request("sleep", { ms: 3_600_000 }, { timeoutMs: 300 });
    const hang = await h.request("flaky", { failAttempts: 1, mode: "hang" }, { timeoutMs: 300, maxAttempts: 2 });

    const sleeperEvents = await h.finished(sleeper);
    expect(finishOf(sleeperEvents)).toEqual({ attempt: 1, outcome: "failed", error: { code: "timeout", message: "timed out after 300 ms" } });

    const hangEvents = await h.finished(hang);
    expect(typesOf(hangEvents)).toEqual(["JobRequested", "JobStarted", "JobAttemptFailed", "JobStarted", "JobFinished"]);
    expect(hangEvents[2]).toMatchObject({ data: { attempt: 1, error: { code: "timeout" } } });
    expect(finishOf(hangEvents)).toEqual({ attempt: 2, outcome: "succeeded", result: { attempt: 2 } });
    await eventually(() => expect(runner.busy).toBe(0));
  });

  it("terminates a worker-thread job on timeout", async () => {
    // Every worker thread this process starts (Node publishes each new Worker here): whether it
    // has exited, and whether it answered first (a computation that ran to its end posts its result).
    const workers: { exited: boolean; answered: boolean }[] = [];
    const onWorker = (message: unknown) => {
      const seen = { exited: false, answered: false };
      workers.push(seen);
      const { worker } = message as { worker: Worker };
      worker.once("message", () => (seen.answered = true));
      worker.once("exit", () => (seen.exited = true));
    };
    diagnostics.subscribe("worker_threads", onWorker);
    try {
      h = await harness.open();
      await h.startRunner();
      const jobId = await h.request("pi", { digits: 100_000 }, { timeoutMs: 50 });
      expect(finishOf(await h.finished(jobId))).toMatchObject({ outcome: "failed", error: { code: "timeout" } });
      expect(workers.length).toBeGreaterThan(0); // the computation did run in a thread
      // Terminated, not left to finish: a thread that outlived the job would answer before it exits.
      await eventually(() => expect(workers).toEqual(workers.map(() => ({ exited: true, answered: false }))));
    } finally {
      diagnostics.unsubscribe("worker_threads", onWorker);
    }
  });

  it("shares one consumer between runners, never pulling more than it can run", async () => {
    h = await harness.open();
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await h.request("sleep", { ms: 150 }));
    const r1 = await h.startRunner({ concurrency: 2 });
    const r2 = await h.startRunner({ concurrency: 2 });

    let maxPending = 0;
    await eventually(
      async () => {
        maxPending = Math.max(maxPending, await h.ackPending());
        expect(r1.busy).toBeLessThanOrEqual(2);
        expect(r2.busy).toBeLessThanOrEqual(2);
        const views = await Promise.all(ids.map((id) => h.view(id)));
        expect(views.map((v) => v?.status)).toEqual(ids.map(() => "succeeded"));
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    // Delivered but not yet acked never exceeds the two runners' slots: jobs this long
    // are not fetched ahead, so nothing waits in a buffer.
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(4);
    const runnersUsed = new Set<string>();
    for (const id of ids) {
      for (const e of (await h.history(id)).map((s) => s.event)) if (e.type === "JobStarted") runnersUsed.add(e.data.runner);
    }
    expect(runnersUsed).toEqual(new Set([r1.runnerId, r2.runnerId]));
  });

  it("fetches short jobs ahead, and hands one back to another runner when a long job holds the slot", async () => {
    h = await harness.open();
    const a = await h.startRunner({ concurrency: 1 });
    // A few short jobs tell runner A its jobs are short: it starts fetching one ahead.
    for (let i = 0; i < 3; i++) await h.finished(await h.request("sum", { a: i, b: 1 }));
    // An hour long: A's slot never frees during the test, so only a hand-back lets the parked job run.
    const long = await h.request("sleep", { ms: 3_600_000 });
    await eventually(async () => expect((await h.view(long))?.status).toBe("running"));
    expect((await h.history(long)).map((s) => s.event).find((e) => e.type === "JobStarted")).toMatchObject({ data: { runner: a.runnerId } });
    const parked = await h.request("sum", { a: 40, b: 2 });
    // A holds the long job and the one it fetched ahead.
    await eventually(async () => expect(await h.ackPending()).toBe(2), { timeoutMs: 5_000, intervalMs: 20 });
    const b = await h.startRunner({ concurrency: 1 });

    const parkedEvents = await h.finished(parked);
    expect(parkedEvents.find((e) => e.type === "JobStarted")).toMatchObject({ data: { runner: b.runnerId, attempt: 1 } });
    expect(finishOf(parkedEvents)).toEqual({ attempt: 1, outcome: "succeeded", result: { value: 42 } });
    expect((await h.view(long))?.status).toBe("running");
  });

  it("delays the start until runAt", async () => {
    h = await harness.open();
    await h.startRunner();
    const runAt = new Date(Date.now() + 2_000);
    const jobId = await h.request("sum", { a: 2, b: 3 }, { runAt });

    const events = await h.finished(jobId);
    expect(typesOf(events)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect(Date.parse(events[1]!.time)).toBeGreaterThanOrEqual(runAt.getTime());
    expect(events[1]).toMatchObject({ data: { attempt: 1 } });
    expect(finishOf(events)).toEqual({ attempt: 1, outcome: "succeeded", result: { value: 5 } });
  });

  it("fails a job whose params do not fit, without starting an attempt", async () => {
    h = await harness.open();
    await h.startRunner();
    const jobId = await h.request("fibonacci", { n: -3 }, { maxAttempts: 3 });
    const events = await h.finished(jobId);
    expect(typesOf(events)).toEqual(["JobRequested", "JobFinished"]);
    expect(finishOf(events)).toMatchObject({ attempt: 0, outcome: "failed", error: { code: "invalid_params" } });
  });
});
