import { describe, expect, it } from "vitest";
import type { JobEvent, StoredEvent } from "../src/events.ts";
import { evolve, foldEvents } from "../src/evolve.ts";
import type { JobView } from "../src/job.ts";

/**
 * Table tests of the fold: each case is a list of stored events reduced from null and
 * the exact view it must produce. Duplicates, redeliveries and late events included.
 */
const ID = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const t = (second: number) => `2025-01-01T00:00:${String(second).padStart(2, "0")}.000Z`;
const at = (seq: number, event: JobEvent): StoredEvent => ({ seq, event });

const meta = { tenant: "ünïcödé ✓ 日本", nested: { list: [1, "two", null, { deep: true }], empty: {} }, n: 1.5 };

const requested = (time = t(0)): JobEvent => ({
  type: "JobRequested",
  jobId: ID,
  time,
  data: { app: "app1", jobType: "sum", params: { a: 1, b: 2 }, meta, maxAttempts: 3, timeoutMs: 60_000, runAt: null },
});
const started = (attempt: number, time: string): JobEvent => ({ type: "JobStarted", jobId: ID, time, data: { attempt, runner: `r${attempt}` } });
const progress = (attempt: number, percent: number, time: string, message?: string): JobEvent => ({
  type: "JobProgress",
  jobId: ID,
  time,
  data: message === undefined ? { attempt, percent } : { attempt, percent, message },
});
const attemptFailed = (attempt: number, time: string): JobEvent => ({
  type: "JobAttemptFailed",
  jobId: ID,
  time,
  data: { attempt, error: { code: "error", message: `boom ${attempt}` }, retryAt: t(59) },
});
const finished = (attempt: number, time: string, outcome: "succeeded" | "failed" | "cancelled", result?: unknown): JobEvent => ({
  type: "JobFinished",
  jobId: ID,
  time,
  data: outcome === "succeeded" ? { attempt, outcome, result } : { attempt, outcome, error: { code: outcome, message: `${outcome}!` } },
});

const queued: JobView = {
  id: ID,
  type: "sum",
  status: "queued",
  params: { a: 1, b: 2 },
  meta,
  progress: null,
  result: null,
  error: null,
  attempts: 0,
  maxAttempts: 3,
  createdAt: t(0),
  startedAt: null,
  finishedAt: null,
  updatedAt: t(0),
  app: "app1",
  timeoutMs: 60_000,
  runAt: null,
  seq: 1,
};
const running1: JobView = { ...queued, status: "running", attempts: 1, startedAt: t(1), updatedAt: t(1), seq: 2 };
const succeeded1: JobView = { ...running1, status: "succeeded", result: { value: 3 }, finishedAt: t(9), updatedAt: t(9) };

interface Case {
  name: string;
  events: StoredEvent[];
  expected: JobView | null;
}

const cases: Case[] = [
  { name: "a request alone is queued", events: [at(1, requested())], expected: queued },
  {
    name: "normal life: requested, started, progress, finished",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, progress(1, 10, t(2))), at(4, progress(1, 60, t(3), "over half")), at(7, finished(1, t(9), "succeeded", { value: 3 }))],
    expected: { ...succeeded1, progress: { percent: 60, message: "over half" }, seq: 7 },
  },
  {
    name: "a duplicate (same seq twice) is folded once",
    events: [at(1, requested()), at(2, started(1, t(1))), at(2, started(1, t(1))), at(3, progress(1, 10, t(2))), at(3, progress(1, 10, t(2)))],
    expected: { ...running1, progress: { percent: 10 }, updatedAt: t(2), seq: 3 },
  },
  {
    name: "a redelivered old event (lower seq) changes nothing",
    events: [at(1, requested()), at(2, started(1, t(1))), at(5, progress(1, 50, t(3))), at(3, progress(1, 20, t(2))), at(1, requested(t(0)))],
    expected: { ...running1, progress: { percent: 50 }, updatedAt: t(3), seq: 5 },
  },
  {
    name: "a late JobProgress after JobFinished changes nothing",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, finished(1, t(9), "succeeded", { value: 3 })), at(4, progress(1, 99, t(10), "late"))],
    expected: { ...succeeded1, seq: 3 },
  },
  {
    name: "a JobStarted of an older attempt is ignored",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, attemptFailed(1, t(2))), at(4, started(2, t(3))), at(5, started(1, t(4)))],
    expected: { ...queued, status: "running", attempts: 2, startedAt: t(3), updatedAt: t(3), error: { code: "error", message: "boom 1" }, seq: 4 },
  },
  {
    name: "a late JobStarted of the attempt that already failed does not restart it",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, attemptFailed(1, t(2))), at(4, started(1, t(3)))],
    expected: { ...running1, status: "queued", error: { code: "error", message: "boom 1" }, updatedAt: t(2), seq: 3 },
  },
  {
    name: "progress never goes down within an attempt",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, progress(1, 40, t(2), "a")), at(4, progress(1, 30, t(3), "b")), at(5, progress(1, 40, t(4), "c"))],
    expected: { ...running1, progress: { percent: 40, message: "c" }, updatedAt: t(4), seq: 5 },
  },
  {
    name: "progress resets with a new attempt, and old-attempt progress is ignored",
    events: [
      at(1, requested()),
      at(2, started(1, t(1))),
      at(3, progress(1, 80, t(2))),
      at(4, attemptFailed(1, t(3))),
      at(5, started(2, t(4))),
      at(6, progress(1, 90, t(5))),
      at(7, progress(2, 5, t(6))),
    ],
    expected: { ...queued, status: "running", attempts: 2, startedAt: t(4), progress: { percent: 5 }, error: { code: "error", message: "boom 1" }, updatedAt: t(6), seq: 7 },
  },
  {
    name: "JobAttemptFailed puts the job back to queued with the error",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, progress(1, 30, t(2))), at(4, attemptFailed(1, t(3)))],
    expected: { ...running1, status: "queued", progress: { percent: 30 }, error: { code: "error", message: "boom 1" }, updatedAt: t(3), seq: 4 },
  },
  {
    name: "a failed attempt, then a new attempt that succeeds",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, attemptFailed(1, t(2))), at(4, started(2, t(3))), at(5, finished(2, t(4), "succeeded", { value: 3 }))],
    expected: { ...queued, status: "succeeded", attempts: 2, startedAt: t(3), finishedAt: t(4), result: { value: 3 }, error: null, updatedAt: t(4), seq: 5 },
  },
  {
    name: "a second JobFinished (double run) does not change the first outcome",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, finished(1, t(9), "succeeded", { value: 3 })), at(4, finished(2, t(12), "failed"))],
    expected: { ...succeeded1, seq: 3 },
  },
  {
    name: "a job that fails for good keeps the error and no result",
    events: [at(1, requested()), at(2, started(1, t(1))), at(3, finished(1, t(9), "failed"))],
    expected: { ...running1, status: "failed", error: { code: "failed", message: "failed!" }, finishedAt: t(9), updatedAt: t(9), seq: 3 },
  },
  {
    name: "a job cancelled before it started",
    events: [at(1, requested()), at(2, finished(0, t(5), "cancelled"))],
    expected: { ...queued, status: "cancelled", error: { code: "cancelled", message: "cancelled!" }, finishedAt: t(5), updatedAt: t(5), seq: 2 },
  },
  {
    name: "events before any JobRequested yield null",
    events: [at(1, started(1, t(1))), at(2, progress(1, 10, t(2))), at(3, finished(1, t(3), "succeeded", { value: 3 }))],
    expected: null,
  },
  {
    name: "a second JobRequested for the same id does not redefine the job",
    events: [at(1, requested()), at(2, { ...requested(t(7)), data: { ...(requested() as { data: object }).data, jobType: "pi" } } as JobEvent)],
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
    const view = foldEvents([at(1, requested()), at(2, started(1, t(1))), at(3, progress(1, 50, t(2)))])!;
    expect(evolve(view, at(3, progress(1, 50, t(2))))).toBe(view); // duplicate
    expect(evolve(view, at(2, started(1, t(1))))).toBe(view); // redelivery
    expect(evolve(view, at(4, progress(1, 20, t(3))))).toBe(view); // progress going down
    expect(evolve(view, at(5, started(1, t(4))))).toBe(view); // same attempt already running
    const done = evolve(view, at(6, finished(1, t(5), "succeeded", { value: 3 })))!;
    expect(evolve(done, at(7, progress(1, 100, t(6))))).toBe(done); // late event after the end
    expect(evolve(null, at(1, started(1, t(1))))).toBeNull();
  });

  it("does not mutate the view it folds over", () => {
    const view = foldEvents([at(1, requested()), at(2, started(1, t(1)))])!;
    const before = structuredClone(view);
    evolve(view, at(3, finished(1, t(2), "succeeded", { value: 3 })));
    expect(view).toEqual(before);
  });

  it("returns meta exactly as sent, through a JSON round trip too", () => {
    const view = foldEvents([at(1, requested())])!;
    expect(view.meta).toStrictEqual(meta);
    expect(JSON.parse(JSON.stringify(view)).meta).toStrictEqual(meta);
  });
});
