import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../src/events.ts";
import { evolve } from "../src/evolve.ts";
import type { JobView } from "../src/job.ts";
import { decodeMetricsDelta, encodeMetricsDelta, JobMetricsTally, type JobMetricsDelta } from "../src/job-metrics.ts";
import { at, attemptFailed, cancelled, failed, progressed, requested, started, stored, succeeded } from "./support/events.ts";

/**
 * Table tests of the projector's job counts: each case is one view write, from the view
 * it replaced (the fold of `before`) to the one it wrote (the fold of `after`), and the
 * exact delta it adds.
 */
const empty: JobMetricsDelta = { started: {}, attemptsFailed: {}, finished: {}, runSeconds: {} };

interface Case {
  name: string;
  /** Events folded into the view a write replaced (in this order). */
  before: StoredEvent[];
  /** Events folded into the view it wrote (in this order). */
  after: StoredEvent[];
  delta: JobMetricsDelta | null;
}

const cases: Case[] = [
  {
    name: "a whole run in one write",
    before: [],
    after: stored(requested(), started(1), progressed(1, 50, { time: at(1.1) }), succeeded(1, null, { time: at(1.25) })),
    delta: { ...empty, started: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.25] } },
  },
  {
    name: "a finish whose start an earlier write holds: timed from the view's start",
    before: stored(requested(), started(1)),
    after: stored(requested(), started(1), failed(1, undefined, { time: at(3) })),
    delta: { ...empty, finished: { sum: { failed: 1 } }, runSeconds: { sum: [2] } },
  },
  {
    name: "a retry: both attempts and the failed one count; the run time is the last attempt's",
    before: stored(requested()),
    after: stored(requested(), started(1), attemptFailed(1, { time: at(1.5) }), started(2, { time: at(3) }), succeeded(2, null, { time: at(3.1) })),
    delta: { started: { sum: 2 }, attemptsFailed: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.1] } },
  },
  {
    name: "a failed attempt alone: the job waits for its retry",
    before: stored(requested(), started(1)),
    after: stored(requested(), started(1), attemptFailed(1, { time: at(1.5) })),
    delta: { ...empty, attemptsFailed: { sum: 1 } },
  },
  {
    name: "an attempt lost with a crashed runner counts as ended when the next one starts",
    before: stored(requested(), started(1)),
    after: stored(requested(), started(1), started(2, { time: at(40) })),
    delta: { ...empty, started: { sum: 1 }, attemptsFailed: { sum: 1 } },
  },
  {
    name: "a job cancelled while waiting for its retry: a finish with no run time",
    before: stored(requested(), started(1), attemptFailed(1, { time: at(1.5) })),
    after: stored(requested(), started(1), attemptFailed(1, { time: at(1.5) }), cancelled(1, { time: at(2) })),
    delta: { ...empty, finished: { sum: { cancelled: 1 } } },
  },
  {
    name: "a queued job cancelled: no attempt",
    before: stored(requested()),
    after: stored(requested(), cancelled(0, { time: at(0.5) })),
    delta: { ...empty, finished: { sum: { cancelled: 1 } } },
  },
  {
    name: "a write that changes nothing counted (a refold of the same events) counts nothing",
    before: stored(requested(), started(1), succeeded(1, null, { time: at(1.2) })),
    after: stored(requested(), started(1), succeeded(1, null, { time: at(1.2) })),
    delta: null,
  },
  {
    name: "requests and progress alone count nothing",
    before: stored(requested(), started(1)),
    after: stored(requested(), started(1), progressed(1, 50, { time: at(1.1) })),
    delta: null,
  },
  {
    name: "a type named like an Object member is just a key",
    before: stored(requested({ jobType: "constructor" })),
    after: stored(requested({ jobType: "constructor" }), started(1, { time: at(0) }), succeeded(1, null, { time: at(0) })),
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
    const run = stored(requested(), started(1), succeeded(1, null, { time: at(1.2) }));
    const steps = [
      run.slice(0, 1),
      run.filter((e) => e.seq !== 2), // the start was still on its way
      run, // the resync mends the view
    ].map(fold);
    tally.count(null, steps[0]!);
    tally.count(steps[0]!, steps[1]!);
    tally.count(steps[1]!, steps[2]!);
    // The finishing write knew no start: the mending write counts the run time.
    expect(plain(tally.take())).toEqual({ ...empty, started: { sum: 1 }, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [0.2] } });
  });

  it("adds up the jobs of a flush, and starts over after take()", () => {
    const tally = new JobMetricsTally();
    for (const [jobType, seconds] of [["sum", 0.1], ["pi", 0.3], ["sum", 0.2]] as const) {
      tally.count(null, fold(stored(requested({ jobType }), started(1, { time: at(0) }), succeeded(1, null, { time: at(seconds) })))!);
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
