import type { JobEvent, JobPriority, StoredEvent } from "@jobs/core";
import { jetstreamManager } from "@jobs/nats";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { finishOf, typesOf, useRunnerHarness, type Harness } from "./fixtures/runner-harness.ts";

/**
 * What waits, waits on the server: runAt, retries and startBy as one-shot schedules of
 * the dispatch stream; priorities as one ready queue each; and the stream restored from
 * the event stream when it is purged or deleted.
 */
const harness = useRunnerHarness();
let h: Harness;

const jsm = () => jetstreamManager(h.nc);
const scheduleOf = async (jobId: string) => (await jsm()).direct.getMessage(h.names.dispatchStream, { last_by_subj: h.names.waitSubject(jobId) });
const markerOf = async () => {
  const m = await (await jsm()).direct.getMessage(h.names.dispatchStream, { last_by_subj: h.names.dispatchMarkerSubject });
  return m === null ? null : new TextDecoder().decode(m.data);
};
const started = (events: readonly StoredEvent[]) => events.filter((e) => e.event.type === "JobStarted");
const eventOf = <T extends JobEvent["type"]>(events: JobEvent[], type: T) => events.find((e) => e.type === type) as Extract<JobEvent, { type: T }>;

describe("waiting on the server", () => {
  it("makes a failed attempt's retry wait as a schedule, not on the runners' consumer, and runs it at its time", async () => {
    h = await harness.open();
    await h.startRunner();
    const jobId = await h.request("flaky", { failAttempts: 1, mode: "throw" }, { maxAttempts: 2 });
    await eventually(async () => expect(typesOf((await h.history(jobId)).map((s) => s.event))).toContain("JobAttemptFailed"));
    await eventually(async () => expect(await h.ackPending()).toBe(0)); // acked once the schedule held the retry
    const events = await h.finished(jobId);
    expect(finishOf(events)).toMatchObject({ attempt: 2, outcome: "succeeded" });
    const retryAt = eventOf(events, "JobAttemptFailed").data.retryAt;
    const second = events.filter((e) => e.type === "JobStarted")[1]!;
    expect(Date.parse(second.time)).toBeGreaterThanOrEqual(Date.parse(retryAt));
  });

  it("starts a due job at once while a thousand jobs wait for their runAt an hour ahead", async () => {
    h = await harness.open();
    const later = new Date(Date.now() + 3_600_000);
    const waiting = await Promise.all(Array.from({ length: 1_000 }, () => h.request("sleep", { ms: 0 }, { runAt: later })));
    await h.startRunner();
    await eventually(async () => expect(await scheduleOf(waiting.at(-1)!)).not.toBeNull(), { timeoutMs: 30_000 });
    const due = await h.request("sleep", { ms: 0 });
    expect(finishOf(await h.finished(due))).toMatchObject({ outcome: "succeeded" });
    for (const id of waiting.slice(0, 20)) expect(typesOf((await h.history(id)).map((s) => s.event))).toEqual(["JobRequested"]);
  });

  it("ends a job not started by its startBy as cancelled 'expired', never early and never started", async () => {
    h = await harness.open();
    await h.startRunner({ concurrency: 1 });
    const blocker = await h.request("sleep", { ms: 4_000 });
    await eventually(async () => expect(typesOf((await h.history(blocker)).map((s) => s.event))).toContain("JobStarted"));
    const startBy = new Date(Date.now() + 1_000);
    const late = await h.request("sleep", { ms: 0 }, { startBy });
    const events = await h.finished(late, 10_000);
    expect(typesOf(events)).toEqual(["JobRequested", "JobFinished"]);
    const ending = eventOf(events, "JobFinished");
    expect(ending.data).toMatchObject({ outcome: "cancelled", error: { code: "expired" } });
    expect(Date.parse(ending.time)).toBeGreaterThanOrEqual(startBy.getTime());
  });
});

describe("priorities", () => {
  it("starts every queued high job before the low ones queued before them, on one runner with one slot", async () => {
    h = await harness.open();
    const lows: string[] = [];
    for (let i = 0; i < 60; i++) lows.push(await h.request("sleep", { ms: 20 }, { priority: "low" }));
    await h.startRunner({ concurrency: 1 });
    await eventually(async () => expect(started(await h.history(lows[3]!))).toHaveLength(1));
    const highs = await Promise.all(Array.from({ length: 5 }, () => h.request("sleep", { ms: 20 }, { priority: "high" })));
    const highsStored = Math.max(...(await Promise.all(highs.map(async (id) => (await h.history(id))[0]!.seq))));
    await Promise.all(highs.map((id) => h.finished(id, 20_000)));

    const startsOf = async (ids: string[], priority: JobPriority) => (await Promise.all(ids.map(async (id) => started(await h.history(id)).map((s) => ({ seq: s.seq, priority }))))).flat();
    const order = [...(await startsOf(lows, "low")), ...(await startsOf(highs, "high"))].sort((a, b) => a.seq - b.seq);
    const lastHigh = order.findLastIndex((s) => s.priority === "high");
    // Lows that started after the highs were stored and before the last high: only those a
    // runner already held (its slot and one fetched ahead) may go first.
    const lowsInBetween = order.slice(0, lastHigh).filter((s) => s.priority === "low" && s.seq > highsStored).length;
    expect(lowsInBetween).toBeLessThanOrEqual(2);
  });
});

describe("the dispatch stream as operational state", () => {
  it.each([
    ["purged", async () => void (await (await jsm()).streams.purge(h.names.dispatchStream))],
    ["deleted", async () => void (await (await jsm()).streams.delete(h.names.dispatchStream))],
  ])("is restored from the event stream when %s: what waited runs once, at its time", async (_how, lose) => {
    h = await harness.open();
    const runner = await h.startRunner({ concurrency: 1, dispatchCheckMs: 200 });
    await eventually(async () => expect(await markerOf()).toBe("complete")); // the check at start found a new stream and marked it
    const blocker = await h.request("sleep", { ms: 3_000 });
    await eventually(async () => expect(typesOf((await h.history(blocker)).map((s) => s.event))).toContain("JobStarted"));
    const runAt = new Date(Date.now() + 2_500);
    const delayed = await h.request("sleep", { ms: 0 }, { runAt });
    const high = await h.request("sleep", { ms: 0 }, { priority: "high" });
    await eventually(async () => expect(await scheduleOf(delayed)).not.toBeNull());
    await eventually(async () => expect((await (await jsm()).consumers.info(h.names.dispatchStream, h.names.readyConsumer("high"))).num_pending + (await (await jsm()).consumers.info(h.names.dispatchStream, h.names.readyConsumer("high"))).num_ack_pending).toBeGreaterThan(0));
    await lose();

    for (const id of [blocker, high, delayed]) expect(finishOf(await h.finished(id, 20_000))).toMatchObject({ outcome: "succeeded" });
    for (const id of [high, delayed]) expect(started(await h.history(id))).toHaveLength(1);
    const delayedStart = (await h.history(delayed)).find((e) => e.event.type === "JobStarted")!.event;
    expect(Date.parse(delayedStart.time)).toBeGreaterThanOrEqual(runAt.getTime());
    expect(runner.busy).toBe(0);
  });
});
