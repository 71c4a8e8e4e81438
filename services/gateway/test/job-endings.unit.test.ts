import { foldEvents, type JobEvent, type JobView } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { DEFAULT_CANCEL_MESSAGE, decideCancel, decideComplete, type Decision, type ExternalEnding } from "../src/job-endings.ts";

const JOB = "01J00000000000000000000000";
const NOW = new Date("2030-01-01T00:00:10.000Z");
const at = (s: number) => new Date(Date.parse("2030-01-01T00:00:00.000Z") + s * 1000).toISOString();

/** A job of `jobType` owned by "alpha", folded from its request and then `later` events. */
function job(jobType: string, ...later: ((jobId: string) => JobEvent)[]): JobView {
  const events: JobEvent[] = [
    {
      type: "JobRequested",
      jobId: JOB,
      time: at(0),
      data: { app: "alpha", jobType, params: {}, meta: {}, maxAttempts: 3, timeoutMs: 1000, runAt: null },
    },
    ...later.map((make) => make(JOB)),
  ];
  return foldEvents(events.map((event, i) => ({ seq: i + 1, event })))!;
}
const started = (attempt: number) => (jobId: string): JobEvent => ({ type: "JobStarted", jobId, time: at(attempt), data: { attempt, runner: "r" } });
const attemptFailed = (attempt: number) => (jobId: string): JobEvent => ({
  type: "JobAttemptFailed",
  jobId,
  time: at(attempt + 1),
  data: { attempt, error: { code: "error", message: "boom" }, retryAt: at(60) },
});
const finished = (outcome: "succeeded" | "failed" | "cancelled") => (jobId: string): JobEvent => ({
  type: "JobFinished",
  jobId,
  time: at(5),
  data: { attempt: 1, outcome, ...(outcome === "succeeded" ? { result: 1 } : { error: { code: "x", message: "y" } }) },
});

const refusal = (d: Decision) => ("refusal" in d ? d.refusal.code : "accepted");

describe("decideCancel", () => {
  const cancel = { jobId: JOB, app: "alpha" };

  it.each([
    ["queued, never started", job("sum"), 0],
    ["running attempt 1", job("sum", started(1)), 1],
    ["queued for attempt 2 after a failed attempt", job("sum", started(1), attemptFailed(1)), 1],
    ["running attempt 2", job("sum", started(1), attemptFailed(1), started(2)), 2],
  ])("cancels a job %s, naming its attempt", (_, view, attempt) => {
    expect(decideCancel(view, cancel, NOW)).toEqual({
      event: {
        type: "JobFinished",
        jobId: JOB,
        time: NOW.toISOString(),
        data: { attempt, outcome: "cancelled", error: { code: "cancelled", message: DEFAULT_CANCEL_MESSAGE } },
      },
    });
  });

  it("puts the reason in the error's message", () => {
    const decision = decideCancel(job("sum"), { ...cancel, reason: "customer left" }, NOW);
    expect("event" in decision && decision.event.data.error).toEqual({ code: "cancelled", message: "customer left" });
  });

  it.each(["succeeded", "failed", "cancelled"] as const)("refuses a job that has %s", (outcome) => {
    const decision = decideCancel(job("sum", started(1), finished(outcome)), cancel, NOW);
    expect(decision).toEqual({ refusal: { code: "job_already_ended", detail: expect.stringContaining(outcome) } });
  });

  it("answers a missing job and another application's job alike", () => {
    const missing = decideCancel(null, cancel, NOW);
    expect(missing).toEqual({ refusal: { code: "job_not_found", detail: `No job ${JOB}` } });
    expect(decideCancel(job("sum"), { ...cancel, app: "beta" }, NOW)).toEqual(missing);
  });
});

describe("decideComplete", () => {
  const succeeded: ExternalEnding = { outcome: "succeeded", result: { rows: 3 } };
  const failed: ExternalEnding = { outcome: "failed", error: { code: "upstream", message: "503 from the partner" } };
  const complete = (ending: ExternalEnding, app = "alpha") => ({ jobId: JOB, app, ending });

  it.each([
    ["a result", succeeded],
    ["an error", failed],
  ])("ends a running external job with %s", (_, ending) => {
    expect(decideComplete(job("external", started(1), attemptFailed(1), started(2)), complete(ending), NOW)).toEqual({
      event: { type: "JobFinished", jobId: JOB, time: NOW.toISOString(), data: { attempt: 2, ...ending } },
    });
  });

  it.each([
    ["queued external job", job("external"), "job_not_running"],
    ["external job queued for a retry", job("external", started(1), attemptFailed(1)), "job_not_running"],
    ["succeeded external job", job("external", started(1), finished("succeeded")), "job_already_ended"],
    ["cancelled external job", job("external", started(1), finished("cancelled")), "job_already_ended"],
    ["running sum job", job("sum", started(1)), "not_an_external_job"],
    ["queued sum job", job("sum"), "not_an_external_job"],
  ])("refuses a %s", (_, view, code) => {
    expect(refusal(decideComplete(view, complete(succeeded), NOW))).toBe(code);
  });

  it("says only external jobs can be completed", () => {
    const decision = decideComplete(job("sum", started(1)), complete(succeeded), NOW);
    expect("refusal" in decision && decision.refusal.detail).toMatch(/only jobs of type "external" can be completed/);
  });

  it("answers a missing job and another application's job alike", () => {
    const missing = decideComplete(null, complete(succeeded), NOW);
    expect(missing).toEqual({ refusal: { code: "job_not_found", detail: `No job ${JOB}` } });
    expect(decideComplete(job("external", started(1)), complete(succeeded, "beta"), NOW)).toEqual(missing);
  });
});
