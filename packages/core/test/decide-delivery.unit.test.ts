import { describe, expect, it } from "vitest";
import { decideDelivery, decideExpiry, UNKNOWN_TYPE_DELAY_MS, type DeliveryContext } from "../src/decide-delivery.ts";
import { deciderSpec } from "./support/decider-spec.ts";
import { attemptFailed, at, cancelled, JOB_ID, requested, started, succeeded } from "./support/events.ts";

const NOW = new Date(at(10));
const knownType: DeliveryContext = { runnerId: "r9", checkParams: () => null, source: "S" };
const delivering = deciderSpec((events, ctx: DeliveryContext) => decideDelivery(events, NOW, ctx));
const interrupted = (attempt: number) => attemptFailed(attempt, { error: { code: "interrupted", message: "shutdown" }, retryAt: at(attempt + 1) });
/** A failed attempt whose retry is due by NOW. */
const failedDue = (attempt: number) => attemptFailed(attempt, { retryAt: at(5) });
const expiring = (attempt: number) => ({
  kind: "expire",
  append: {
    event: { type: "JobFinished", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, outcome: "cancelled", error: { code: "expired", message: expect.stringContaining("startBy") } } },
    msgId: `${JOB_ID}:expired`,
  },
});
const startOf = (attempt: number, lastAttempt: number) => ({
  kind: "start",
  append: { event: { type: "JobStarted", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt, runner: "r9", source: "S" } }, msgId: `${JOB_ID}:started:${attempt}:S` },
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
    delivering.given(requested(), started(1), failedDue(1)).when(knownType).then(startOf(2, 3));
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

  it("makes a job that is not due wait on the server until its runAt, or its retry's time", () => {
    delivering.given(requested({ runAt: at(12.5) })).when(knownType).then({ kind: "wait", until: new Date(at(12.5)), attempt: 1 });
    delivering.given(requested({ runAt: "2999-01-01T00:00:00.000Z" })).when(knownType).then({ kind: "wait", until: new Date("2999-01-01T00:00:00.000Z"), attempt: 1 });
    delivering.given(requested({ runAt: at(10) })).when(knownType).then(startOf(1, 3));
    delivering.given(requested(), started(1), attemptFailed(1, { retryAt: at(11) })).when(knownType).then({ kind: "wait", until: new Date(at(11)), attempt: 2 });
    // The runAt holds only the first attempt back.
    delivering.given(requested({ runAt: at(5) }), started(1), failedDue(1)).when(knownType).then(startOf(2, 3));
  });

  it("lets only the delivery that started the current attempt take it over; any other is a duplicate", () => {
    const from = (source: string, attempt?: number): DeliveryContext => ({ ...knownType, source, ...(attempt === undefined ? {} : { attempt }) });
    // Its runner stopped: the delivery that started attempt 1 comes back and starts attempt 2.
    delivering.given(requested(), started(1, { source: "S" })).when(from("S")).then(startOf(2, 3));
    // Another copy (a repair, a request routed twice) or the request when a dispatch started it.
    delivering.given(requested(), started(1, { source: "T" })).when(from("S", 1)).then({ kind: "duplicate" });
    delivering.given(requested(), started(1, { source: "T" })).when(from("S")).then({ kind: "duplicate" });
    // An old copy of a failed attempt: the retry's own dispatch (attempt 2) goes on.
    delivering.given(requested(), started(1, { source: "T" }), failedDue(1)).when(from("S", 1)).then({ kind: "duplicate" });
    delivering.given(requested(), started(1, { source: "T" }), failedDue(1)).when(from("S", 2)).then(startOf(2, 3));
    // Handed back by its owner (a shutdown): the same delivery starts the next attempt.
    delivering.given(requested(), started(1, { source: "S" }), interrupted(1)).when(from("S", 1)).then(startOf(2, 4));
    // Two copies of a first dispatch: the first to start wins (above), the first one starts.
    delivering.given(requested({ priority: "low" })).when(from("S", 1)).then(startOf(1, 3));
  });

  it("expires a job not started by its startBy, whatever it waited for", () => {
    delivering.given(requested({ startBy: at(9) })).when(knownType).then(expiring(0));
    delivering.given(requested({ startBy: at(9), runAt: at(20) })).when(knownType).then(expiring(0));
    delivering.given(requested({ startBy: at(9) }), started(1), failedDue(1)).when(knownType).then(expiring(1));
    // A runner that stopped mid-attempt: the next attempt would start after startBy.
    delivering.given(requested({ startBy: at(9) }), started(1)).when(knownType).then(expiring(1));
    delivering.given(requested({ startBy: at(11) })).when(knownType).then(startOf(1, 3));
  });

  it("hands back a job of a type this runner does not know", () => {
    delivering.given(requested()).when({ runnerId: "r9", checkParams: null, source: "S" }).then({ kind: "unknown-type", delayMs: UNKNOWN_TYPE_DELAY_MS });
  });

  it("fails a job whose params do not match its type, naming the last attempt that started", () => {
    const problems = () => ["/a must be number", "/b is required"];
    delivering.given(requested()).when({ runnerId: "r9", checkParams: problems, source: "S" }).then(failing(0, "invalid_params", "/a must be number; /b is required"));
    delivering.given(requested(), started(1), failedDue(1)).when({ runnerId: "r9", checkParams: problems, source: "S" }).then(failing(1, "invalid_params", "/a must be number; /b is required"));
  });

  it("refuses events without a request (a bug of the caller)", () => {
    expect(() => delivering.given(started(1)).when(knownType)).toThrow(/JobRequested/);
  });
});

describe("decideExpiry", () => {
  const expiry = deciderSpec((events) => decideExpiry(events, NOW));

  it("ends a job that waits past its startBy: for a runner, its runAt, or a retry", () => {
    expiry.given(requested({ startBy: at(9) })).when(undefined).then(expiring(0));
    expiry.given(requested({ startBy: at(9), runAt: at(30) })).when(undefined).then(expiring(0));
    expiry.given(requested({ startBy: at(10) }), started(1), attemptFailed(1)).when(undefined).then(expiring(1));
  });

  it("keeps a job that started in time, has ended, or has no startBy", () => {
    expiry.given(requested({ startBy: at(9) }), started(1)).when(undefined).then({ kind: "keep", reason: "started" });
    expiry.given(requested({ startBy: at(9) }), cancelled(0)).when(undefined).then({ kind: "keep", reason: "ended" });
    expiry.given(requested()).when(undefined).then({ kind: "keep", reason: "no-start-by" });
  });

  it("waits again when it fires before startBy on this runner's clock", () => {
    expiry.given(requested({ startBy: at(10.2) })).when(undefined).then({ kind: "early", until: new Date(at(10.2)) });
  });
});
