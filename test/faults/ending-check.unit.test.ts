import { describe, expect, it } from "vitest";
import { attemptFailed, cancelled, requested, started, stored, succeeded, JOB_ID } from "@jobs/core/testing";
import type { StoredEvent } from "@jobs/core";
import { expectOneEndingEach, finishOf, type LostAttempts } from "../support/job-history.ts";

/**
 * The check every fault test ends with ("the outcome is recorded once", on the stream):
 * it passes the histories the service may write and fails the ones it must never write,
 * so a fault test that calls it can fail.
 */
const one = (...events: StoredEvent[]) => new Map([[JOB_ID, events]]);
const killedR1: LostAttempts = { fault: "the SIGKILL of r1", explains: (s) => s.runner === "r1", maxPerJob: 1 };

describe("expectOneEndingEach", () => {
  it.each<[string, StoredEvent[], LostAttempts | undefined]>([
    ["one attempt, one ending", stored(requested(), started(1), succeeded(1, 3)), undefined],
    ["a retry: attempt 1 failed, attempt 2 ended the job", stored(requested(), started(1), attemptFailed(1), started(2), succeeded(2, 3)), undefined],
    ["cancelled before any attempt (attempt 0)", stored(requested(), cancelled(0)), undefined],
    ["a killed runner's attempt, explained by the kill", stored(requested(), started(1, { runner: "r1" }), started(2, { runner: "r2" }), succeeded(2, 3)), killedR1],
    ["first outcome wins: attempt 1 ended it while attempt 2 ran", stored(requested(), started(1, { runner: "r2" }), started(2, { runner: "r1" }), succeeded(1, 3)), killedR1],
  ])("passes %s", (_, history, lost) => {
    expectOneEndingEach(one(...history), { lost });
  });

  it.each<[string, StoredEvent[], LostAttempts | undefined, RegExp]>([
    ["two endings", stored(requested(), started(1), succeeded(1, 3), succeeded(1, 4)), undefined, /2 JobFinished, not 1/],
    ["no ending", stored(requested(), started(1)), killedR1, /0 JobFinished, not 1/],
    ["the same attempt started twice", stored(requested(), started(1), started(1), succeeded(1, 3)), undefined, /attempts \[1,1\], not 1\.\.2/],
    ["an attempt number skipped", stored(requested(), started(1), attemptFailed(1), started(3), succeeded(3, 3)), undefined, /attempts \[1,3\]/],
    ["a start after the ending", stored(requested(), started(1), succeeded(1, 3), started(2)), killedR1, /attempt 2 started after the JobFinished/],
    ["an ending naming an attempt that never started", stored(requested(), started(1), succeeded(2, 3)), undefined, /names attempt 2, which never started/],
    ["an attempt failed twice", stored(requested(), started(1), attemptFailed(1), attemptFailed(1), started(2), succeeded(2, 3)), undefined, /attempt 1 failed more than once/],
    ["an attempt without an outcome and no fault", stored(requested(), started(1), started(2), succeeded(2, 3)), undefined, /attempt 1 \(runner r1\) stored no outcome, and the test caused no fault/],
    ["an attempt without an outcome the fault does not explain", stored(requested(), started(1, { runner: "r2" }), started(2), succeeded(2, 3)), killedR1, /attempt 1 \(runner r2\) stored no outcome, not explained/],
    [
      "more attempts without an outcome than the fault explains",
      stored(requested(), started(1, { runner: "r1" }), started(2, { runner: "r1" }), started(3, { runner: "r2" }), succeeded(3, 3)),
      killedR1,
      /2 attempts stored no outcome; the SIGKILL of r1 explains at most 1/,
    ],
  ])("fails %s", (_, history, lost, message) => {
    expect(() => expectOneEndingEach(one(...history), { lost })).toThrow(message);
  });

  it("lists every broken job of a run, not only the first", () => {
    const histories = new Map([
      ["job-a", stored(requested({ jobId: "job-a" }), started(1, { jobId: "job-a" }))],
      ["job-b", stored(requested({ jobId: "job-b" }), started(1, { jobId: "job-b" }), succeeded(1, 1, { jobId: "job-b" }))],
      ["job-c", stored(requested({ jobId: "job-c" }), cancelled(0, { jobId: "job-c" }), cancelled(0, { jobId: "job-c" }))],
    ]);
    expect(() => expectOneEndingEach(histories)).toThrow(/2 of 3 jobs break[\s\S]*job-a[\s\S]*job-c/);
  });
});

describe("finishOf", () => {
  it("is the one JobFinished, undefined before the end, and refuses a second", () => {
    expect(finishOf(stored(requested(), started(1)))).toBeUndefined();
    expect(finishOf(stored(requested(), started(1), succeeded(1, 3)))).toEqual({ attempt: 1, outcome: "succeeded", result: 3 });
    expect(() => finishOf(stored(requested(), started(1), succeeded(1, 3), cancelled(1)))).toThrow(/2 JobFinished in one job's history/);
  });
});
