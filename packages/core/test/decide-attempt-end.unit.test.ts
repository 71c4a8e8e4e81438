import { describe, expect, it } from "vitest";
import { decideAttemptEnd, type AttemptOutcome } from "../src/decide-attempt-end.ts";
import { at, JOB_ID } from "./support/events.ts";

const NOW = new Date(at(10));
const ref = (attempt: number, lastAttempt = 3) => ({ jobId: JOB_ID, attempt, lastAttempt });
const finished = (attempt: number, data: object) => ({
  kind: "end",
  append: { event: { type: "JobFinished", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, ...data } }, msgId: `${JOB_ID}:finished` },
});
const boom = { code: "error", message: "boom" };

describe("decideAttemptEnd", () => {
  it.each<[string, AttemptOutcome, number, object]>([
    ["a success ends the job with its result", { kind: "succeeded", result: { value: 3 } }, 1, finished(1, { outcome: "succeeded", result: { value: 3 } })],
    ["undefined is stored as null", { kind: "succeeded", result: undefined }, 1, finished(1, { outcome: "succeeded", result: null })],
    ["a failure that is not retried ends the job", { kind: "failed", error: boom, retryable: false }, 1, finished(1, { outcome: "failed", error: boom })],
    ["a failure of the last attempt ends the job", { kind: "failed", error: boom, retryable: true }, 3, finished(3, { outcome: "failed", error: boom })],
    ["a job ended elsewhere stores nothing", { kind: "finished-elsewhere" }, 1, { kind: "drop" }],
  ])("%s", (_, outcome, attempt, expected) => {
    expect(decideAttemptEnd(outcome, ref(attempt), NOW)).toEqual(expected);
  });

  it("a result JSON cannot hold fails the job (invalid_result)", () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(decideAttemptEnd({ kind: "succeeded", result: cyclic }, ref(1), NOW)).toEqual(
      finished(1, { outcome: "failed", error: { code: "invalid_result", message: expect.stringMatching(/^the result cannot be stored: .*circular/i) } }),
    );
  });

  it.each([
    [1, 1_000],
    [2, 2_000],
    [7, 60_000],
  ])("a retryable failure of attempt %i with attempts left retries after %i ms", (attempt, delayMs) => {
    expect(decideAttemptEnd({ kind: "failed", error: boom, retryable: true }, ref(attempt, 10), NOW)).toEqual({
      kind: "retry",
      delayMs,
      append: {
        event: { type: "JobAttemptFailed", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, error: boom, retryAt: new Date(NOW.getTime() + delayMs).toISOString() } },
        msgId: `${JOB_ID}:failed:${attempt}`,
      },
    });
  });

  it("an interrupted attempt records why and is never the job's end, even the last one", () => {
    const decision = decideAttemptEnd({ kind: "interrupted" }, ref(3, 3), NOW);
    expect(decision).toMatchObject({ kind: "interrupted", append: { event: { type: "JobAttemptFailed", data: { attempt: 3, error: { code: "interrupted" } } } } });
  });
});
