import { newJobId, type JobEvent } from "@jobs/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cachedReading } from "../src/cached-reading.ts";
import { GatewayMetrics } from "../src/gateway-metrics.ts";
import { JobEventMetrics } from "../src/job-event-metrics.ts";
import { sampleValue } from "./metrics-text.ts";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

const requested = (jobId: string, jobType: string): JobEvent => ({
  type: "JobRequested",
  jobId,
  time: at(0),
  data: { app: "a", jobType, params: {}, meta: {}, maxAttempts: 3, timeoutMs: 1000, runAt: null },
});
const started = (jobId: string, ms: number, attempt = 1): JobEvent => ({ type: "JobStarted", jobId, time: at(ms), data: { attempt, runner: "r" } });
const progressed = (jobId: string, ms: number): JobEvent => ({ type: "JobProgress", jobId, time: at(ms), data: { attempt: 1, percent: 50 } });
const attemptFailed = (jobId: string, ms: number): JobEvent => ({
  type: "JobAttemptFailed",
  jobId,
  time: at(ms),
  data: { attempt: 1, error: { code: "e", message: "boom" }, retryAt: at(ms + 1000) },
});
const finished = (jobId: string, ms: number, outcome: "succeeded" | "failed" | "cancelled" = "succeeded"): JobEvent => ({
  type: "JobFinished",
  jobId,
  time: at(ms),
  data: { attempt: 1, outcome },
});

function setup(lookup: (jobId: string) => Promise<string | null> = async () => null, maxTracked?: number) {
  const metrics = new GatewayMetrics();
  const lookups: string[] = [];
  const tracker = new JobEventMetrics(metrics, {
    lookupType: (id) => {
      lookups.push(id);
      return lookup(id);
    },
    maxTracked,
  });
  const text = async () => (await metrics.exposition()).text;
  return { tracker, lookups, text };
}

describe("job metrics from the stream's events", () => {
  it("counts starts and finishes by type and outcome, and times the run from start to finish", async () => {
    const { tracker, lookups, text } = setup();
    const [a, b, c] = [newJobId(), newJobId(), newJobId()];
    for (const e of [requested(a, "sum"), requested(b, "sum"), requested(c, "pi"), started(a, 100), progressed(a, 200), started(b, 100)]) tracker.observe(e);
    for (const e of [finished(a, 1600), finished(b, 350, "failed"), finished(c, 50, "cancelled")]) tracker.observe(e);

    const t = await text();
    expect(sampleValue(t, "jobs_started_total", { type: "sum" })).toBe(2);
    expect(sampleValue(t, "jobs_started_total", { type: "pi" })).toBeUndefined();
    expect(sampleValue(t, "jobs_finished_total", { type: "sum", outcome: "succeeded" })).toBe(1);
    expect(sampleValue(t, "jobs_finished_total", { type: "sum", outcome: "failed" })).toBe(1);
    expect(sampleValue(t, "jobs_finished_total", { type: "pi", outcome: "cancelled" })).toBe(1);
    // Runs of 1.5 s and 0.25 s; the job cancelled before it started has no run time.
    expect(sampleValue(t, "jobs_run_duration_seconds_count", { type: "sum" })).toBe(2);
    expect(sampleValue(t, "jobs_run_duration_seconds_sum", { type: "sum" })).toBeCloseTo(1.75);
    expect(sampleValue(t, "jobs_run_duration_seconds_bucket", { type: "sum", le: "1" })).toBe(1);
    expect(sampleValue(t, "jobs_run_duration_seconds_count", { type: "pi" })).toBeUndefined();
    expect(lookups).toEqual([]); // every type came from a request it saw
    expect(tracker.size).toBe(0); // finished jobs are forgotten
  });

  it("times only the last attempt, and counts the failed ones that are retried", async () => {
    const { tracker, text } = setup();
    const id = newJobId();
    for (const e of [requested(id, "sleep"), started(id, 0), attemptFailed(id, 5000), started(id, 9000, 2), finished(id, 9500)]) tracker.observe(e);
    const t = await text();
    expect(sampleValue(t, "jobs_attempts_failed_total", { type: "sleep" })).toBe(1);
    expect(sampleValue(t, "jobs_started_total", { type: "sleep" })).toBe(2);
    expect(sampleValue(t, "jobs_run_duration_seconds_sum", { type: "sleep" })).toBeCloseTo(0.5);
  });

  it("looks up once the type of a job first met mid-way, and counts 'unknown' when the lookup fails", async () => {
    const known = newJobId();
    const lost = newJobId();
    const { tracker, lookups, text } = setup(async (id) => {
      if (id === lost) throw new Error("no responders");
      return "fibonacci";
    });
    for (const e of [started(known, 0), progressed(known, 10), finished(known, 2000), started(lost, 0)]) tracker.observe(e);
    await new Promise((r) => setImmediate(r)); // the lookups settle
    const t = await text();
    expect(lookups).toEqual([known, lost]);
    expect(sampleValue(t, "jobs_started_total", { type: "fibonacci" })).toBe(1);
    expect(sampleValue(t, "jobs_finished_total", { type: "fibonacci", outcome: "succeeded" })).toBe(1);
    expect(sampleValue(t, "jobs_run_duration_seconds_sum", { type: "fibonacci" })).toBeCloseTo(2);
    expect(sampleValue(t, "jobs_started_total", { type: "unknown" })).toBe(1);
  });

  it("remembers at most maxTracked jobs, forgetting the oldest first", async () => {
    const { tracker, lookups } = setup(async () => "sum", 2);
    const [a, b, c] = [newJobId(), newJobId(), newJobId()];
    for (const e of [requested(a, "sum"), requested(b, "sum"), requested(c, "sum")]) tracker.observe(e);
    expect(tracker.size).toBe(2);
    tracker.observe(started(c, 0));
    tracker.observe(started(a, 0)); // forgotten: its type is looked up
    expect(lookups).toEqual([a]);
    expect(tracker.size).toBe(2);
  });
});

describe("cachedReading", () => {
  afterEach(() => void vi.useRealTimers());

  it("reads at most once per ttl, shares a reading in flight, and turns a failure into NaN", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    let reads = 0;
    let fail = false;
    const errors: unknown[] = [];
    const read = cachedReading(
      async () => {
        reads++;
        if (fail) throw new Error("timeout");
        return reads;
      },
      { ttlMs: 1000, onError: (err) => errors.push(err) },
    );
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    vi.setSystemTime(999);
    expect(await read()).toBe(1);
    vi.setSystemTime(1000);
    fail = true;
    expect(await read()).toBeNaN();
    expect(await read()).toBeNaN();
    expect(reads).toBe(2);
    expect(errors).toHaveLength(1);
    vi.setSystemTime(2000);
    fail = false;
    expect(await read()).toBe(3);
  });
});
