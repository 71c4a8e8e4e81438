import { describe, expect, it } from "vitest";
import type { JobEvent, StoredEvent } from "../src/events.ts";
import { evolve, foldEvents } from "../src/evolve.ts";
import type { JobView } from "../src/job.ts";
import { at, attemptFailed, cancelled, failed, JOB_ID, progressed, requested, started, stored, succeeded } from "./support/events.ts";

/**
 * Table tests of the fold: each case is a list of stored events reduced from null and
 * the exact view it must produce. Duplicates, redeliveries and late events included.
 */
const atSeq = (seq: number, event: JobEvent): StoredEvent => ({ seq, event });
const boom = { code: "error", message: "boom" };

const queued: JobView = {
  id: JOB_ID,
  type: "sum",
  status: "queued",
  params: { a: 1, b: 2 },
  meta: {},
  progress: null,
  result: null,
  error: null,
  attempts: 0,
  maxAttempts: 3,
  createdAt: at(0),
  startedAt: null,
  finishedAt: null,
  updatedAt: at(0),
  app: "alpha",
  timeoutMs: 1000,
  runAt: null,
  priority: "normal",
  startBy: null,
  scheduleId: null,
  seq: 1,
};
const running1: JobView = { ...queued, status: "running", attempts: 1, startedAt: at(1), updatedAt: at(1), seq: 2 };
const succeeded1: JobView = { ...running1, status: "succeeded", result: { value: 3 }, finishedAt: at(9), updatedAt: at(9) };

interface Case {
  name: string;
  events: StoredEvent[];
  expected: JobView | null;
}

const cases: Case[] = [
  { name: "a request alone is queued", events: stored(requested()), expected: queued },
  {
    name: "a request keeps its priority, times and schedule",
    events: stored(requested({ priority: "high", runAt: at(5), startBy: at(9), scheduleId: "s1" })),
    expected: { ...queued, priority: "high", runAt: at(5), startBy: at(9), scheduleId: "s1" },
  },
  {
    name: "a request stored before priorities existed reads as normal, with no startBy or schedule",
    events: stored(requested({ priority: undefined, startBy: undefined, scheduleId: undefined })),
    expected: queued,
  },
  {
    name: "normal life: requested, started, progress, finished",
    events: [
      atSeq(1, requested()),
      atSeq(2, started(1)),
      atSeq(3, progressed(1, 10, { time: at(2) })),
      atSeq(4, progressed(1, 60, { time: at(3), message: "over half" })),
      atSeq(7, succeeded(1, { value: 3 }, { time: at(9) })),
    ],
    expected: { ...succeeded1, progress: { percent: 60, message: "over half" }, seq: 7 },
  },
  {
    name: "a duplicate (same seq twice) is folded once",
    events: [
      atSeq(1, requested()),
      atSeq(2, started(1)),
      atSeq(2, started(1)),
      atSeq(3, progressed(1, 10, { time: at(2) })),
      atSeq(3, progressed(1, 10, { time: at(2) })),
    ],
    expected: { ...running1, progress: { percent: 10 }, updatedAt: at(2), seq: 3 },
  },
  {
    name: "a redelivered old event (lower seq) changes nothing",
    events: [
      atSeq(1, requested()),
      atSeq(2, started(1)),
      atSeq(5, progressed(1, 50, { time: at(3) })),
      atSeq(3, progressed(1, 20, { time: at(2) })),
      atSeq(1, requested()),
    ],
    expected: { ...running1, progress: { percent: 50 }, updatedAt: at(3), seq: 5 },
  },
  {
    name: "a late JobProgress after JobFinished changes nothing",
    events: stored(requested(), started(1), succeeded(1, { value: 3 }, { time: at(9) }), progressed(1, 99, { time: at(10), message: "late" })),
    expected: { ...succeeded1, seq: 3 },
  },
  {
    name: "a JobStarted of an older attempt is ignored",
    events: stored(requested(), started(1), attemptFailed(1), started(2, { time: at(3) }), started(1, { time: at(4) })),
    expected: { ...queued, status: "running", attempts: 2, startedAt: at(3), updatedAt: at(3), error: boom, seq: 4 },
  },
  {
    name: "a late JobStarted of the attempt that already failed does not restart it",
    events: stored(requested(), started(1), attemptFailed(1), started(1, { time: at(3) })),
    expected: { ...running1, status: "queued", error: boom, updatedAt: at(2), seq: 3 },
  },
  {
    name: "progress never goes down within an attempt",
    events: stored(
      requested(),
      started(1),
      progressed(1, 40, { time: at(2), message: "a" }),
      progressed(1, 30, { time: at(3), message: "b" }),
      progressed(1, 40, { time: at(4), message: "c" }),
    ),
    expected: { ...running1, progress: { percent: 40, message: "c" }, updatedAt: at(4), seq: 5 },
  },
  {
    name: "progress resets with a new attempt, and old-attempt progress is ignored",
    events: stored(
      requested(),
      started(1),
      progressed(1, 80, { time: at(2) }),
      attemptFailed(1, { time: at(3) }),
      started(2, { time: at(4) }),
      progressed(1, 90, { time: at(5) }),
      progressed(2, 5, { time: at(6) }),
    ),
    expected: { ...queued, status: "running", attempts: 2, startedAt: at(4), progress: { percent: 5 }, error: boom, updatedAt: at(6), seq: 7 },
  },
  {
    name: "JobAttemptFailed puts the job back to queued with the error",
    events: stored(requested(), started(1), progressed(1, 30, { time: at(2) }), attemptFailed(1, { time: at(3) })),
    expected: { ...running1, status: "queued", progress: { percent: 30 }, error: boom, updatedAt: at(3), seq: 4 },
  },
  {
    name: "a failed attempt, then a new attempt that succeeds",
    events: stored(requested(), started(1), attemptFailed(1), started(2, { time: at(3) }), succeeded(2, { value: 3 }, { time: at(4) })),
    expected: { ...queued, status: "succeeded", attempts: 2, startedAt: at(3), finishedAt: at(4), result: { value: 3 }, error: null, updatedAt: at(4), seq: 5 },
  },
  {
    name: "a second JobFinished (double run) does not change the first outcome",
    events: stored(requested(), started(1), succeeded(1, { value: 3 }, { time: at(9) }), failed(2, boom, { time: at(12) })),
    expected: { ...succeeded1, seq: 3 },
  },
  {
    name: "a job that fails for good keeps the error and no result",
    events: stored(requested(), started(1), failed(1, boom, { time: at(9) })),
    expected: { ...running1, status: "failed", error: boom, finishedAt: at(9), updatedAt: at(9), seq: 3 },
  },
  {
    name: "a job cancelled before it started",
    events: stored(requested(), cancelled(0, { time: at(5) })),
    expected: { ...queued, status: "cancelled", error: { code: "cancelled", message: "Cancelled on request" }, finishedAt: at(5), updatedAt: at(5), seq: 2 },
  },
  {
    name: "events before any JobRequested yield null",
    events: stored(started(1), progressed(1, 10, { time: at(2) }), succeeded(1, { value: 3 }, { time: at(3) })),
    expected: null,
  },
  {
    name: "a second JobRequested for the same id does not redefine the job",
    events: stored(requested(), requested({ time: at(7), jobType: "pi" })),
    expected: queued,
  },
];

describe("evolve (table)", () => {
  it.each(cases)("$name", ({ events, expected }) => {
    expect(foldEvents(events)).toEqual(expected);
  });
});

describe("evolve", () => {
  it("returns the same object when an event changes nothing", () => {
    const view = foldEvents(stored(requested(), started(1), progressed(1, 50, { time: at(2) })))!;
    expect(evolve(view, atSeq(3, progressed(1, 50, { time: at(2) })))).toBe(view); // duplicate
    expect(evolve(view, atSeq(2, started(1)))).toBe(view); // redelivery
    expect(evolve(view, atSeq(4, progressed(1, 20, { time: at(3) })))).toBe(view); // progress going down
    expect(evolve(view, atSeq(5, started(1, { time: at(4) })))).toBe(view); // same attempt already running
    const done = evolve(view, atSeq(6, succeeded(1, { value: 3 }, { time: at(5) })))!;
    expect(evolve(done, atSeq(7, progressed(1, 100, { time: at(6) })))).toBe(done); // late event after the end
    expect(evolve(null, atSeq(1, started(1)))).toBeNull();
  });

  it("does not mutate the view it folds over", () => {
    const view = foldEvents(stored(requested(), started(1)))!;
    const before = structuredClone(view);
    evolve(view, atSeq(3, succeeded(1, { value: 3 })));
    expect(view).toEqual(before);
  });

  it("returns meta exactly as sent, through a JSON round trip too", () => {
    const meta = { tenant: "ünïcödé ✓ 日本", nested: { list: [1, "two", null, { deep: true }], empty: {} }, n: 1.5 };
    const view = foldEvents(stored(requested({ meta })))!;
    expect(view.meta).toStrictEqual(meta);
    expect(JSON.parse(JSON.stringify(view)).meta).toStrictEqual(meta);
  });
});
