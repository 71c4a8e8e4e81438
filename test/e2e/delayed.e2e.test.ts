import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { StoredEvent } from "@jobs/core";
import { sleep } from "@jobs/service";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { expectOneEndingEach, jobHistory, startsOf } from "../support/job-history.ts";

/**
 * Delayed jobs (`runAt`), as the contract words it: "the job stays queued until then and
 * runs within a second of it; it survives restarts". The job is routed into the dispatch
 * stream as a one-shot server schedule (`@at runAt`), which the server keeps in the stream:
 * neither a runner crash nor a nats-server restart moves the start. The test waits for the
 * schedule to be stored before the crash; a crash before that leaves the routed request
 * unacknowledged on the routing consumer, which routes it again after its ack wait.
 *
 * How late a start may be: the contract's second is the server's timer plus one pull and
 * one write, which a loaded machine can stretch. Each test logs how late its job started
 * and fails only past LATE_MS, which still tells a job started at its time from one that
 * lost its delay (the ack wait's 30 s) or never started; a start before runAt fails at once.
 */
const LATE_MS = 5_000;
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "delay", runnerIds: ["delay-a"] });
  await eventually(async () => expect((await f.api.get("/job-types")).body.items.map((t: { name: string }) => t.name)).toContain("sum"), {
    timeoutMs: 20_000,
  });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

async function createDelayed(inMs: number): Promise<{ id: string; runAt: number }> {
  const runAt = new Date(Date.now() + inMs);
  const created = await f.api.post("/job", { type: "sum", params: { a: 1, b: 2 }, runAt: runAt.toISOString() });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  expect(created.body.status).toBe("queued");
  return { id: created.body.id, runAt: runAt.getTime() };
}

/**
 * Polls the job until `runAt`: it must read `queued` with no attempt. (An answer that
 * arrives just after `runAt` may already show the start; that start is held to the
 * stream's JobStarted time, which startOf checks is not before `runAt`.)
 */
async function expectQueuedUntil(id: string, runAt: number): Promise<void> {
  let polls = 0;
  while (Date.now() < runAt) {
    const res = await f.api.get(`/job/${id}`);
    expect(res.status).toBe(200);
    if (res.body.status !== "queued") {
      expect(Date.parse(res.body.startedAt), `started before runAt: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(runAt);
      break;
    }
    expect(res.body, f.logs()).toMatchObject({ attempts: 0, startedAt: null });
    polls++;
    await sleep(200); // pacing of the polls, not a wait for a condition
  }
  expect(polls).toBeGreaterThan(0);
}

/** Waits for the job's JobStarted and returns it with how long after `runAt` it was stored. */
async function startOf(id: string, runAt: number): Promise<{ runner: string; lateMs: number; history: StoredEvent[] }> {
  // Bounded only to stop a hung test: a job that lost its delay would come back after the 30 s ack wait.
  return eventually(
    async () => {
      const history = await jobHistory(f.nc, f.names, id);
      const started = history.find((e) => e.event.type === "JobStarted");
      expect(started, `no JobStarted yet for ${id}`).toBeDefined();
      const event = started!.event as Extract<StoredEvent["event"], { type: "JobStarted" }>;
      return { runner: event.data.runner, lateMs: Date.parse(event.time) - runAt, history };
    },
    { timeoutMs: 40_000, intervalMs: 100 },
  );
}

async function expectSucceeded(id: string) {
  await eventually(async () => expect((await f.api.get(`/job/${id}`)).body).toMatchObject({ status: "succeeded", result: { value: 3 }, attempts: 1 }), {
    timeoutMs: 15_000,
  });
}

/** Never before runAt; late only by what a busy machine adds (see LATE_MS). */
function expectOnTime(lateMs: number, what: string): void {
  console.log(`${what}: started ${lateMs} ms after runAt (the contract: within 1,000 ms)`);
  expect(lateMs, f.logs()).toBeGreaterThanOrEqual(0);
  expect(lateMs, f.logs()).toBeLessThan(LATE_MS);
}

describe("a delayed job", () => {
  it("stays queued until runAt, then starts at its time", async () => {
    const { id, runAt } = await createDelayed(3_000);
    await expectQueuedUntil(id, runAt);

    const { lateMs } = await startOf(id, runAt);
    expectOnTime(lateMs, "undisturbed");
    await expectSucceeded(id);
  });

  it("keeps its time through a crash of the runner and of nats-server, and runs once", async () => {
    // Far enough ahead that a runner kill, a server restart and a new runner's start-up fit
    // before runAt even on a loaded machine (a new runner process takes seconds to start).
    const { id, runAt } = await createDelayed(20_000);
    // Short requests, so that the poll retries while the server restarts; not too short:
    // a server just restarted on a busy machine can take a second to answer.
    const jsm = await jetstreamManager(f.nc, { timeout: 2_000 });
    // Routed into the dispatch stream: once its schedule is there, the server holds its time.
    await eventually(async () => expect(await jsm.direct.getMessage(f.names.dispatchStream, { last_by_subj: f.names.waitSubject(id) })).not.toBeNull());

    // The runner dies (no chance to hand anything back); so does the server, which starts again on its store.
    const [victim] = f.liveRunners();
    await f.runner(victim!).stop("SIGKILL");
    await f.nats.stop("SIGKILL");
    await f.nats.restart();
    const replacement = `${victim}-next`;
    f.startRunner(replacement);
    // Both are back well before runAt, or the test would not show anything about them.
    await eventually(async () => {
      const info = await jsm.consumers.info(f.names.stream, f.names.runnerConsumer);
      expect(info.num_waiting, "the new runner is pulling").toBeGreaterThan(0);
      expect((await f.api.get("/readyz")).status, "the gateway is back on NATS").toBe(200);
    }, { timeoutMs: 15_000, intervalMs: 50 });
    expect(runAt - Date.now(), "the restarts took too long for this test to mean anything").toBeGreaterThan(1_000);

    await expectQueuedUntil(id, runAt);
    const { runner, lateMs } = await startOf(id, runAt);
    expect(runner).toBe(replacement);
    expectOnTime(lateMs, "through a crash of the runner and of nats-server");
    await expectSucceeded(id);
    expectOneEndingEach(new Map([[id, await jobHistory(f.nc, f.names, id)]]));
    expect(f.unexpectedExits()).toEqual([]);
  });
});
