import { describe, expect, it } from "vitest";
import { decideDelivery, MAX_NOT_DUE_DELAY_MS, UNKNOWN_TYPE_DELAY_MS, type DeliveryContext } from "../src/decide-delivery.ts";
import { deciderSpec } from "./support/decider-spec.ts";
import { attemptFailed, at, cancelled, JOB_ID, requested, started, succeeded } from "./support/events.ts";

const NOW = new Date(at(10));
const knownType: DeliveryContext = { runnerId: "r9", checkParams: () => null };
const delivering = deciderSpec((events, ctx: DeliveryContext) => decideDelivery(events, NOW, ctx));
const interrupted = (attempt: number) => attemptFailed(attempt, { error: { code: "interrupted", message: "shutdown" } });
const startOf = (attempt: number, lastAttempt: number) => ({
  kind: "start",
  append: { event: { type: "JobStarted", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, runner: "r9" } }, msgId: `${JOB_ID}:started:${attempt}` },
  attempt,
  lastAttempt,
});
const failing = (attempt: number, code: string, message: string | RegExp) => ({
  kind: "fail",
  reason: code,
  append: {
    event: { type: "JobFinished", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, outcome: "failed", error: { code, message: message instanceof RegExp ? expect.stringMatching(message) : message } } },
    msgId: `${JOB_ID}:finished`,
  },
});

describe("decideDelivery", () => {
  it("starts attempt 1 of a new job", () => {
    delivering.given(requested()).when(knownType).then(startOf(1, 3));
  });

  it("starts the next attempt after a failed one, and after one whose runner crashed (no ending stored)", () => {
    delivering.given(requested(), started(1), attemptFailed(1)).when(knownType).then(startOf(2, 3));
    delivering.given(requested(), started(1)).when(knownType).then(startOf(2, 3));
  });

  it("gives an attempt back for each one a graceful shutdown interrupted", () => {
    delivering.given(requested({ maxAttempts: 1 }), started(1), interrupted(1)).when(knownType).then(startOf(2, 2));
  });

  it("fails a job whose attempts ran out without a result", () => {
    delivering.given(requested({ maxAttempts: 2 }), started(1), started(2)).when(knownType).then(failing(2, "attempts_exhausted", /attempt 2 ended without a result/));
  });

  it.each([
    ["succeeded", succeeded(1, 3)],
    ["cancelled", cancelled(0)],
  ])("skips a job that has %s", (status, ending) => {
    delivering.given(requested(), ending).when(knownType).then({ kind: "ended", status });
  });

  it("hands back a job that is not due, for at most a day", () => {
    delivering.given(requested({ runAt: at(12.5) })).when(knownType).then({ kind: "not-due", delayMs: 2_500 });
    delivering.given(requested({ runAt: "2999-01-01T00:00:00.000Z" })).when(knownType).then({ kind: "not-due", delayMs: MAX_NOT_DUE_DELAY_MS });
    delivering.given(requested({ runAt: at(10) })).when(knownType).then(startOf(1, 3));
  });

  it("hands back a job of a type this runner does not know", () => {
    delivering.given(requested()).when({ runnerId: "r9", checkParams: null }).then({ kind: "unknown-type", delayMs: UNKNOWN_TYPE_DELAY_MS });
  });

  it("fails a job whose params do not match its type, naming the last attempt that started", () => {
    const problems = () => ["/a must be number", "/b is required"];
    delivering.given(requested()).when({ runnerId: "r9", checkParams: problems }).then(failing(0, "invalid_params", "/a must be number; /b is required"));
    delivering.given(requested(), started(1), attemptFailed(1)).when({ runnerId: "r9", checkParams: problems }).then(failing(1, "invalid_params", "/a must be number; /b is required"));
  });

  it("refuses events without a request (a bug of the caller)", () => {
    expect(() => delivering.given(started(1)).when(knownType)).toThrow(/JobRequested/);
  });
});
