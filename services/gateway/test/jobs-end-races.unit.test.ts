import { newJobId, type JobEvent, type JobFinished } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { MAX_END_TRIES } from "../src/jobs/end-job.ts";
import type { FakeJobStore } from "./fakes.ts";
import { auth, problemOf, testApp } from "./helper.ts";

/**
 * Cancel and complete when something else writes to the job between their read and
 * their conditional write: the fake store runs `beforeConditionalAppend` right there.
 */

const post = (id: string, action: "cancel" | "complete", payload?: object) => ({
  method: "POST" as const,
  url: `/job/${id}/${action}`,
  headers: auth(),
  ...(payload === undefined ? {} : { payload }),
});
const now = () => new Date().toISOString();
const event = (jobId: string, e: Pick<JobEvent, "type" | "data">) => ({ ...e, jobId, time: now() }) as JobEvent;
const progressed = (jobId: string, percent: number) => event(jobId, { type: "JobProgress", data: { attempt: 1, percent } });

/** A job of "alpha", queued or with its first attempt started by a runner. */
async function seed(jobs: FakeJobStore, jobType: string, { running = false } = {}) {
  const { id } = await jobs.seedJob("alpha", newJobId(), jobType);
  if (running) await jobs.seedEvent(event(id, { type: "JobStarted", data: { attempt: 1, runner: "r1" } }));
  return id;
}

/** Stores `race(event)` once, before the first conditional append only. */
function raceOnce(jobs: FakeJobStore, race: (ours: JobFinished) => Promise<unknown>) {
  jobs.beforeConditionalAppend = async (ours) => {
    jobs.beforeConditionalAppend = undefined;
    await race(ours);
  };
}

describe("POST /job/:id/cancel racing other writers", () => {
  it("decides again when a runner stored an event meanwhile, and cancels", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "sum", { running: true });
    raceOnce(jobs, () => jobs.seedEvent(progressed(id, 50)));
    const res = await app.inject(post(id, "cancel"));
    expect(res.statusCode).toBe(202);
    expect(jobs.later.map((e) => e.type)).toEqual(["JobStarted", "JobProgress", "JobFinished"]);
    expect(res.json()).toMatchObject({ status: "cancelled", progress: { percent: 50 } });
  });

  it("answers 409 when the runner finished the job meanwhile, and stores nothing of its own", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "sum", { running: true });
    raceOnce(jobs, () => jobs.seedEvent(event(id, { type: "JobFinished", data: { attempt: 1, outcome: "succeeded", result: 3 } })));
    const res = await app.inject(post(id, "cancel"));
    expect(res.statusCode).toBe(409);
    expect(jobs.later.map((e) => e.type === "JobFinished" && e.data.outcome)).toEqual([false, "succeeded"]);
  });

  it("answers 409 to the loser of two concurrent cancels (same message id), one JobFinished stored", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "sum");
    // The other request's cancel lands first, under the same message id.
    raceOnce(jobs, (ours) => jobs.appendIfUnchanged({ ...ours, time: now() }, `${id}:cancel`, 0));
    const res = await app.inject(post(id, "cancel"));
    expect(res.statusCode).toBe(409);
    expect(jobs.later.map((e) => e.type)).toEqual(["JobFinished"]);
  });

  it(`gives up after ${MAX_END_TRIES} lost races: 503 with Retry-After, nothing of its own stored`, async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "sum", { running: true });
    let percent = 0;
    jobs.beforeConditionalAppend = async () => void (await jobs.seedEvent(progressed(id, ++percent)));
    const res = await app.inject(post(id, "cancel"));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(problemOf(res).type).toBe("/problems/job-busy");
    expect(percent).toBe(MAX_END_TRIES);
    expect(jobs.later.filter((e) => e.type === "JobFinished")).toEqual([]);
  });
});

describe("POST /job/:id/complete racing other writers", () => {
  it("decides again after a lost race and completes", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", { running: true });
    raceOnce(jobs, () => jobs.seedEvent(progressed(id, 90)));
    const res = await app.inject(post(id, "complete", { result: "done" }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "succeeded", result: "done" });
    expect(jobs.later.map((e) => e.type)).toEqual(["JobStarted", "JobProgress", "JobFinished"]);
  });

  it("answers 409 when the attempt timed out meanwhile (the runner stored its failure first)", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", { running: true });
    const timeout = { code: "timeout", message: "no answer within 1000 ms" };
    raceOnce(jobs, () => jobs.seedEvent(event(id, { type: "JobAttemptFailed", data: { attempt: 1, error: timeout, retryAt: now() } })));
    const res = await app.inject(post(id, "complete", { result: "late" }));
    expect(res.statusCode).toBe(409);
    expect(problemOf(res).type).toBe("/problems/job-not-running");
    expect(jobs.later.map((e) => e.type)).toEqual(["JobStarted", "JobAttemptFailed"]);
  });
});
