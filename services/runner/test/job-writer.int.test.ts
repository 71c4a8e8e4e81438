import { describe, expect, it } from "vitest";
import { failed, progressed, started, succeeded } from "../src/job-events.ts";
import { JobWriter } from "../src/job-writer.ts";
import { silent, typesOf, useRunnerHarness, type Harness } from "./fixtures/runner-harness.ts";

/** Conditional writes: a runner never stores a second ending after a cancel, whatever it believed. */
const harness = useRunnerHarness();
let h: Harness;

const writerFor = (jobId: string, lastSeq = 0) => new JobWriter(h.events, jobId, lastSeq, { giveUp: new AbortController().signal, log: silent });
const history = async (jobId: string) => typesOf((await h.history(jobId)).map((s) => s.event));
const cancelEvent = (jobId: string) =>
  ({ type: "JobFinished", jobId, time: new Date().toISOString(), data: { attempt: 1, outcome: "cancelled", error: { code: "cancelled", message: "by test" } } }) as const;

describe("JobWriter", () => {
  it("drops the runner's ending when the job was cancelled after its start", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const writer = writerFor(jobId);
    expect(await writer.start(started(jobId, 1, "r"))).toBeGreaterThan(0);
    await h.events.append(cancelEvent(jobId), `${jobId}:cancel`);

    expect(await writer.tryOnce(progressed(jobId, 1, 1, 50))).toBe(false);
    expect(await writer.settle(succeeded(jobId, 1, { value: 3 }))).toBe("ended-elsewhere");
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect((await h.view(jobId))?.status).toBe("cancelled");
  });

  it("refuses to start a job that changed since it was read", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    await h.events.append(cancelEvent(jobId), `${jobId}:cancel`);
    await expect(writerFor(jobId, 0).start(started(jobId, 1, "r"))).rejects.toMatchObject({ name: "EventConflictError" });
    expect(await history(jobId)).toEqual(["JobRequested", "JobFinished"]);
  });

  it("catches up when its view was only stale (an event it did not count) and stores the ending", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const writer = writerFor(jobId);
    await writer.start(started(jobId, 1, "r"));
    // A progress stored behind the writer's back (as when its ack was lost).
    await h.events.append(progressed(jobId, 1, 1, 10)[0], `${jobId}:progress:1:1`);

    expect(await writer.settle(failed(jobId, 1, { code: "error", message: "boom" }))).toBe("stored");
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted", "JobProgress", "JobFinished"]);
    expect(await writer.tryOnce(progressed(jobId, 1, 2, 20))).toBe(true); // knows the last event again
  });

  it("treats a retried write that was already stored as done (the job's last event carries its message id)", async () => {
    h = await harness.open();
    const jobId = await h.request("sum", { a: 1, b: 2 });
    const first = await writerFor(jobId, 0).start(started(jobId, 1, "r"));
    const again = await writerFor(jobId, 0).start(started(jobId, 1, "r"));
    expect(again).toBe(first);
    expect(await history(jobId)).toEqual(["JobRequested", "JobStarted"]);
  });
});
