import { describe, expect, it } from "vitest";
import type { JobEvent, StoredEvent } from "../src/events.ts";
import { evolve } from "../src/evolve.ts";
import type { JobView } from "../src/job.ts";
import { decodeMetricsDelta, encodeMetricsDelta, JobMetricsTally, type JobMetricsDelta } from "../src/job-metrics.ts";

/**
 * Table tests of the projector's job counts: each case is one view write, from the view
 * it replaced (the fold of `before`) to the one it wrote (the fold of `after`), and the
 * exact delta it adds.
 */
const ID = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const t = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();
const at = (seq: number, event: JobEvent): StoredEvent => ({ seq, event });

const requested = (jobType = "sum"): JobEvent => ({
  type: "JobRequested",
  jobId: ID,
  time: t(0),
  data: { app: "app1", jobType, params: {}, meta: {}, maxAttempts: 3, timeoutMs: 60_000, runAt: null },
});
const started = (attempt: number, ms: number): JobEvent => ({ type: "JobStarted", jobId: ID, time: t(ms), data: { attempt, runner: "r" } });
const progress = (attempt: number, ms: number): JobEvent => ({ type: "JobProgress", jobId: ID, time: t(ms), data: { attempt, percent: 50 } });
const attemptFailed = (attempt: number, ms: number): JobEvent => ({
  type: "JobAttemptFailed",
  jobId: ID,
  time: t(ms),
  data: { attempt, error: { code: "error", message: "boom" }, retryAt: t(ms + 1_000) },
});
const finished = (attempt: number, ms: number, outcome: "succeeded" | "failed" | "cancelled"): JobEvent => ({
  type: "JobFinished",
  jobId: ID,
  time: t(ms),
  data: outcome === "succeeded" ? { attempt, outcome, result: null } : { attempt, outcome, error: { code: outcome, message: "no" } },
});

const empty: JobMetricsDelta = { started: {}, attemptsFailed: {}, finished: {}, runSeconds: {} };

interface Case {
  name: string;
  /** Events folded into the view a write replaced (in this order). */
  before: StoredEvent[];
  /** Events folded into the view it wrote (in this order). */
  after: StoredEvent[];
  delta: JobMetricsDelta | null;
}

const req = at(1, requested());
const cases: Case[] = [
  {
    name: "a whole run in one write",
    before: [],
    after: [req, at(2, started(1, 1_000)), at(3, progress(1, 1_100)), at(4, finished(1, 1_250, "succeeded"))],
    delta: { ...empty, started: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.25] } },
  },
  {
    name: "a finish whose start an earlier write holds: timed from the view's start",
    before: [req, at(2, started(1, 1_000))],
    after: [req, at(2, started(1, 1_000)), at(3, finished(1, 3_000, "failed"))],
    delta: { ...empty, finished: { sum: { failed: 1 } }, runSeconds: { sum: [2] } },
  },
  {
    name: "a retry: both attempts and the failed one count; the run time is the last attempt's",
    before: [req],
    after: [req, at(2, started(1, 1_000)), at(3, attemptFailed(1, 1_500)), at(4, started(2, 3_000)), at(5, finished(2, 3_100, "succeeded"))],
    delta: { started: { sum: 2 }, attemptsFailed: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.1] } },
  },
  {
    name: "a failed attempt alone: the job waits for its retry",
    before: [req, at(2, started(1, 1_000))],
    after: [req, at(2, started(1, 1_000)), at(3, attemptFailed(1, 1_500))],
    delta: { ...empty, attemptsFailed: { sum: 1 } },
  },
  {
    name: "an attempt lost with a crashed runner counts as ended when the next one starts",
    before: [req, at(2, started(1, 1_000))],
    after: [req, at(2, started(1, 1_000)), at(3, started(2, 40_000))],
    delta: { ...empty, started: { sum: 1 }, attemptsFailed: { sum: 1 } },
  },
  {
    name: "a job cancelled while waiting for its retry: a finish with no run time",
    before: [req, at(2, started(1, 1_000)), at(3, attemptFailed(1, 1_500))],
    after: [req, at(2, started(1, 1_000)), at(3, attemptFailed(1, 1_500)), at(4, finished(1, 2_000, "cancelled"))],
    delta: { ...empty, finished: { sum: { cancelled: 1 } } },
  },
  {
    name: "a queued job cancelled: no attempt",
    before: [req],
    after: [req, at(2, finished(0, 500, "cancelled"))],
    delta: { ...empty, finished: { sum: { cancelled: 1 } } },
  },
  {
    name: "a write that changes nothing counted (a refold of the same events) counts nothing",
    before: [req, at(2, started(1, 1_000)), at(3, finished(1, 1_200, "succeeded"))],
    after: [req, at(2, started(1, 1_000)), at(3, finished(1, 1_200, "succeeded"))],
    delta: null,
  },
  {
    name: "requests and progress alone count nothing",
    before: [req, at(2, started(1, 1_000))],
    after: [req, at(2, started(1, 1_000)), at(3, progress(1, 1_100))],
    delta: null,
  },
  {
    name: "a type named like an Object member is just a key",
    before: [at(1, requested("constructor"))],
    after: [at(1, requested("constructor")), at(2, started(1, 0)), at(3, finished(1, 0, "succeeded"))],
    delta: { ...empty, started: { constructor: 1 }, finished: { constructor: { succeeded: 1 } }, runSeconds: { constructor: [0] } },
  },
];

/** The fold in the order given (out-of-order folds are what a resync later mends). */
const fold = (events: StoredEvent[]) => events.reduce<JobView | null>((view, e) => evolve(view, e), null);
const plain = (delta: JobMetricsDelta | null) => (delta === null ? null : JSON.parse(JSON.stringify(delta)));

describe("JobMetricsTally", () => {
  it.each(cases)("$name", ({ before, after, delta }) => {
    const tally = new JobMetricsTally();
    const base = fold(before);
    tally.count(base, fold(after)!);
    // Compared as JSON: the tally's records have no prototype.
    expect(plain(tally.take())).toEqual(delta);
  });

  it("counts each job once along a chain of writes, run time included, even when a finish was folded before its start", () => {
    const tally = new JobMetricsTally();
    const steps = [
      [req],
      [req, at(3, finished(1, 1_200, "succeeded"))], // the start was still on its way
      [req, at(2, started(1, 1_000)), at(3, finished(1, 1_200, "succeeded"))], // the resync mends the view
    ].map(fold);
    tally.count(null, steps[0]!);
    tally.count(steps[0]!, steps[1]!);
    tally.count(steps[1]!, steps[2]!);
    // The finishing write knew no start: the mending write counts the run time.
    expect(plain(tally.take())).toEqual({ ...empty, started: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.2] } });
  });

  it("adds up the jobs of a flush, and starts over after take()", () => {
    const tally = new JobMetricsTally();
    for (const [jobType, ms] of [["sum", 100], ["pi", 300], ["sum", 200]] as const) {
      tally.count(null, fold([at(1, requested(jobType)), at(2, started(1, 0)), at(3, finished(1, ms, "succeeded"))])!);
    }
    expect(plain(tally.take())).toEqual({
      started: { sum: 2, pi: 1 },
      attemptsFailed: {},
      finished: { sum: { succeeded: 2 }, pi: { succeeded: 1 } },
      runSeconds: { sum: [0.1, 0.2], pi: [0.3] },
    });
    expect(tally.take()).toBeNull();
  });
});

describe("decodeMetricsDelta", () => {
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it("reads back what the projector publishes", () => {
    const delta = { started: { sum: 2 }, attemptsFailed: {}, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.5] } };
    expect(decodeMetricsDelta(new TextEncoder().encode(encodeMetricsDelta(delta)))).toEqual(delta);
  });

  it.each([
    ["not JSON", new TextEncoder().encode("{")],
    ["a missing field", bytes({ started: {}, attemptsFailed: {}, finished: {} })],
    ["a count that is not a positive integer", bytes({ ...empty, started: { sum: -1 } })],
    ["a negative run time", bytes({ ...empty, runSeconds: { sum: [-1] } })],
  ])("refuses %s", (_name, data) => {
    expect(() => decodeMetricsDelta(data)).toThrow();
  });
});
