import { describe, expect, it } from "vitest";
import { attemptProgress, messageIds, type Decided } from "@jobs/core";
import { failed, started, succeeded } from "@jobs/core/testing";
import type { JobState } from "@jobs/nats";
import { JobWriter } from "../src/job-writer.ts";
import { silent, typesOf, useRunnerHarness, type Harness } from "./fixtures/runner-harness.ts";

/** Conditional writes: a runner never stores a second ending after a cancel, whatever it believed. */
const harness = useRunnerHarness();
let h: Harness;

/** A writer that knows the job as `state` has it (default: as stored now). */
const writerFor = async (jobId: string, state?: JobState) =>
  new JobWriter(h.events, jobId, state ?? (await h.events.readForUpdate(jobId)), { giveUp: new AbortController().signal, log: silent });
const startOf = (jobId: string): Decided => ({ event: started(1, { jobId, runner: "r" }), msgId: messageIds.started(jobId, 1) });
const progressOf = (jobId: string, n: number, percent: number) => attemptProgress({ jobId, attempt: 1 }, n, percent, undefined, new Date());
const ending = (jobId: string, event: ReturnType<typeof succeeded>): Decided => ({ event: { ...event, jobId }, msgId: messageIds.finished(jobId) });
const history = async (jobId: string) => typesOf((await h.history(jobId)).map((s) => s.event));
const cancelEvent = (jobId: string) =>
  ({ type: "JobFinished", jobId, time: new Date().toISOString(), data: { attempt: 1, outcome: "cancelled", error: { code: "cancelled", message: "by test" } } }) as const;

describe("JobWriter", () => {
  it("drops the runner's ending when the job was cancelled after its start", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const writer = await writerFor(jobId);
    expect(await writer.start(startOf(jobId))).toBeGreaterThan(0);
    await h.events.append(cancelEvent(jobId), `${jobId}:cancel`);

    expect(await writer.tryOnce(progressOf(jobId, 1, 50))).toBe(false);
    expect(await writer.settle(ending(jobId, succeeded(1, { value: 3 })))).toBe("ended-elsewhere");
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect((await h.view(jobId))?.status).toBe("cancelled");
  });

  it("refuses to start a job that changed since it was read", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const stale = await h.events.readForUpdate(jobId);
    await h.events.append(cancelEvent(jobId), `${jobId}:cancel`);
    await expect((await writerFor(jobId, stale)).start(startOf(jobId))).rejects.toMatchObject({ name: "EventConflictError" });
    expect(await history(jobId)).toEqual(["JobRequested", "JobFinished"]);
  });

  it("catches up when its view was only stale (an event it did not count) and stores the ending", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const writer = await writerFor(jobId);
    await writer.start(startOf(jobId));
    // A progress stored behind the writer's back (as when its ack was lost).
    const behind = progressOf(jobId, 1, 10);
    await h.events.append(behind.event, behind.msgId);

    expect(await writer.settle(ending(jobId, failed(1, { code: "error", message: "boom" })))).toBe("stored");
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted", "JobProgress", "JobFinished"]);
    expect(await writer.tryOnce(progressOf(jobId, 2, 20))).toBe(true); // knows the last event again
  });

  it("treats a retried write that was already stored as done (the job's last event carries its message id)", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const before = await h.events.readForUpdate(jobId);
    const first = await (await writerFor(jobId, before)).start(startOf(jobId));
    const again = await (await writerFor(jobId, before)).start(startOf(jobId));
    expect(again).toBe(first);
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted"]);
  });
});
