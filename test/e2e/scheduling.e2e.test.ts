import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { StoredEvent } from "@jobs/core";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { historiesOf, jobHistory } from "../support/job-history.ts";
import { waitForFinal } from "../support/job-traffic.ts";

/**
 * Priorities, startBy and cancels of waiting jobs through the API, on the services as
 * processes: one runner with RUNNER_CONCURRENCY=1, as the issue words the priority test.
 */
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "sched", runnerIds: ["sched-a"], types: ["sleep", "sum"], env: { RUNNER_CONCURRENCY: "1" } });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

const startOf = (history: readonly StoredEvent[]) => history.find((e) => e.event.type === "JobStarted");

async function batch(jobs: object[]): Promise<string[]> {
  const res = await f.api.post("/job/batch", { jobs });
  expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(207);
  const items = res.body.items as { status: number; job: { id: string } }[];
  expect(items.every((i) => i.status === 202)).toBe(true);
  return items.map((i) => i.job.id);
}

describe("scheduling through the API", () => {
  it("starts 10 high jobs before the next 10 of a 2,000 low backlog, on one runner with one slot", async () => {
    const low = { type: "sleep", params: { ms: 5 }, priority: "low" };
    const lows = [...(await batch(Array.from({ length: 1000 }, () => low))), ...(await batch(Array.from({ length: 1000 }, () => low)))];
    // The backlog is being worked through: a few lows have run.
    await eventually(async () => expect(startOf(await jobHistory(f.nc, f.names, lows[20]!))).toBeDefined(), { timeoutMs: 60_000 });
    const highs = await batch(Array.from({ length: 10 }, () => ({ type: "sleep", params: { ms: 5 }, priority: "high" })));
    const highsStored = Math.max(...(await Promise.all(highs.map(async (id) => (await jobHistory(f.nc, f.names, id))[0]!.seq))));
    const ended = await waitForFinal(f.api, highs, { timeoutMs: 60_000, logs: f.logs });
    expect([...ended.values()].every((j) => j.status === "succeeded")).toBe(true);

    const histories = await historiesOf(f.nc, f.names, [...lows, ...highs]);
    const starts = [...histories.entries()]
      .map(([id, h]) => ({ id, seq: startOf(h)?.seq, high: highs.includes(id) }))
      .filter((s): s is { id: string; seq: number; high: boolean } => s.seq !== undefined && s.seq > highsStored)
      .sort((a, b) => a.seq - b.seq);
    const order = starts.slice(0, 20).map((s) => (s.high ? "H" : "l")).join("");
    console.log(`starts after the 10 high jobs were stored: ${order} (H high, l low)`);
    const lastHigh = starts.findLastIndex((s) => s.high);
    const lowsBefore = starts.slice(0, lastHigh).filter((s) => !s.high).length;
    // The words: all 10 start before the next 10 low. The lows that do go first are
    // those the runner held already and those that started while the high ones were routed
    // (one publish each, a few 5 ms jobs' time).
    expect(lowsBefore, order).toBeLessThan(10);
  }, 180_000);

  it("ends a job not started by its startBy as cancelled 'expired'", async () => {
    const blocker = (await f.api.post("/job", { type: "sleep", params: { ms: 3_000 }, priority: "high" })).body.id as string;
    await eventually(async () => expect((await f.api.get(`/job/${blocker}`)).body.status).toBe("running"), { timeoutMs: 60_000 });
    const startBy = new Date(Date.now() + 1_000);
    const late = await f.api.post("/job", { type: "sum", params: { a: 1, b: 2 }, priority: "high", startBy: startBy.toISOString() });
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ priority: "high", startBy: startBy.toISOString() });
    const [job] = (await waitForFinal(f.api, [late.body.id], { timeoutMs: 30_000, logs: f.logs })).values();
    expect(job).toMatchObject({ status: "cancelled", attempts: 0, startedAt: null, error: { code: "expired" } });
    expect(Date.parse(job.finishedAt)).toBeGreaterThanOrEqual(startBy.getTime());
  });

  it("never runs a waiting job that was cancelled", async () => {
    const runAt = new Date(Date.now() + 2_000);
    const created = await f.api.post("/job", { type: "sum", params: { a: 1, b: 2 }, runAt: runAt.toISOString() });
    expect(created.body).toMatchObject({ status: "queued", runAt: runAt.toISOString() });
    expect((await f.api.post(`/job/${created.body.id}/cancel`, {})).status).toBe(202);
    // Past its time, the schedule has fired into the ready queue and a runner has dropped it.
    await eventually(async () => {
      const info = await (await jetstreamManager(f.nc)).consumers.info(f.names.dispatchStream, f.names.readyConsumer("normal"));
      expect(Date.now()).toBeGreaterThan(runAt.getTime());
      expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(1);
      expect(info.num_ack_pending + info.num_pending).toBe(0);
    }, { timeoutMs: 30_000 });
    expect((await jobHistory(f.nc, f.names, created.body.id)).map((e) => e.event.type)).toEqual(["JobRequested", "JobFinished"]);
  });
});
