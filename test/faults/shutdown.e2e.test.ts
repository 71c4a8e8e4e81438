import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { allJobHistories, expectOneEndingEach, finishOf, historiesOf, jobHistory, startsOf } from "../support/job-history.ts";
import { acceptedIds, postJobs, waitForFinal, type PostOutcome } from "../support/job-traffic.ts";
import type { ServiceProcess } from "../support/services.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";

/**
 * SIGTERM, as a deploy sends it, to each service while it works: nothing in flight is
 * lost, the process exits 0, and its replacement carries on. The runners keep the
 * default 30 s ack wait here, so a job handed back on shutdown visibly goes to another
 * runner at once, not when its claim lapses. Each test first brings the stack to a
 * gateway, a projector and two runners (whatever an earlier test stopped), and checks
 * on the stream that each of its jobs ended exactly once; a SIGTERM loses no attempt
 * (a runner hands its job back with a JobAttemptFailed), so no attempt may lack an outcome.
 */
const GRACE_MS = 1_000;
const ACK_WAIT_MS = 30_000;
let f: FaultStack;
let spare = 0;

beforeAll(async () => {
  f = await startFaultStack({ label: "sdown", types: ["sum", "countdown"], runnerIds: ["sd-a", "sd-b"], env: { RUNNER_SHUTDOWN_GRACE_MS: String(GRACE_MS), RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) } });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

const ready = () => eventually(async () => expect((await fetch(`${f.stack.baseUrl}/readyz`)).status).toBe(200), { timeoutMs: 20_000, intervalMs: 100 });
const isLive = (name: "gateway" | "projector") => f.stack.services.some((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);

/** A gateway, a projector and two runners pulling, whatever an earlier test stopped. */
async function fullStack(): Promise<void> {
  if (!isLive("projector")) f.stack.start("projector");
  while (f.liveRunners().length < 2) await f.startRunnerReady(`sd-spare-${++spare}`);
  if (!isLive("gateway")) f.stack.start("gateway");
  await ready();
}

/** Sends `count` sum jobs and SIGTERMs `victim()` once a third have been answered. */
async function burstWithShutdown(count: number, victim: () => ServiceProcess): Promise<{ outcomes: PostOutcome[]; exitCode: number | null }> {
  let stopped: Promise<number | null> | undefined;
  const outcomes = await postJobs(
    f.api,
    Array.from({ length: count }, (_, i) => ({ type: "sum", params: { a: i, b: 1000 } })),
    {
      concurrency: 16,
      onOutcome: (_, done) => {
        if (done === Math.floor(count / 3)) stopped = victim().stop("SIGTERM");
      },
    },
  );
  return { outcomes, exitCode: await stopped! };
}

describe("SIGTERM", () => {
  it("gateway: finishes the requests in flight; every 202 is a job that completes", async () => {
    await fullStack();
    const seqBefore = (await (await jetstreamManager(f.nc)).streams.info(f.names.stream)).state.last_seq;
    const { outcomes, exitCode } = await burstWithShutdown(300, () => f.live("gateway"));
    expect(exitCode, f.logs()).toBe(0);

    // Each answer is a complete 202, or the connection failed (refused once the gateway stopped listening).
    const answered = outcomes.flatMap((o) => ("response" in o ? [o] : []));
    expect(answered.map((o) => o.response.status).filter((s) => s !== 202), f.logs()).toEqual([]);
    for (const o of answered) expect(o.response.body).toMatchObject({ type: "sum", status: "queued", params: (o.body as { params: unknown }).params });
    const ids = acceptedIds(outcomes);
    expect(ids.length).toBeGreaterThanOrEqual(100);
    // No request was cut off after storing its job: the jobs requested since the burst
    // began are exactly the 202s (a connection error means the gateway never took the request).
    const requestedSince = [...(await allJobHistories(f.nc, f.names))].filter(([, h]) => h[0]!.seq > seqBefore).map(([id]) => id);
    expect(new Set(requestedSince)).toEqual(new Set(ids));

    f.stack.start("gateway");
    await ready();
    const jobs = await waitForFinal(f.api, ids, { timeoutMs: 30_000, logs: f.logs });
    for (const [id, job] of jobs) expect(job, id).toMatchObject({ status: "succeeded", result: { value: job.params.a + 1000 } });
    expectOneEndingEach(await historiesOf(f.nc, f.names, ids));
  }, 80_000);

  it("runner: hands a job longer than its grace back, another runner takes it at once, and it exits 0", async () => {
    await fullStack();
    const created = await f.api.post("/job", { type: "countdown", params: { seconds: 6 } });
    expect(created.status).toBe(202);
    const id: string = created.body.id;
    const first = await eventually(async () => {
      const history = await jobHistory(f.nc, f.names, id);
      expect(history.map((s) => s.event.type)).toContain("JobProgress");
      return startsOf(history)[0]!;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    const others = f.liveRunners().filter((r) => r !== first.runner);

    const termAt = Date.now();
    expect(await f.runner(first.runner).stop("SIGTERM"), f.logs()).toBe(0);
    const job = (await waitForFinal(f.api, [id], { timeoutMs: 40_000, logs: f.logs })).get(id);
    expect(job).toMatchObject({ status: "succeeded", result: { seconds: 6 } });

    const history = await jobHistory(f.nc, f.names, id);
    const starts = startsOf(history);
    expect(starts.map((s) => s.attempt)).toEqual([1, 2]);
    expect(starts[0]!.runner).toBe(first.runner);
    expect(others).toContain(starts[1]!.runner);
    const handback = history.find((s) => s.event.type === "JobAttemptFailed")?.event;
    expect(handback).toMatchObject({ data: { attempt: 1, error: { code: "interrupted" } } });
    // At once: the grace, then the nak. Without the nak the job would wait for its claim
    // to lapse, ACK_WAIT_MS after the last heartbeat (a third of it before the SIGTERM at
    // most): 20 s or more. Half the ack wait tells the two apart on any machine.
    const retakenAfterMs = Date.parse(history.find((s) => s.seq === starts[1]!.seq)!.event.time) - termAt;
    expect(retakenAfterMs, f.logs()).toBeLessThan(ACK_WAIT_MS / 2);
    expect(finishOf(history)).toMatchObject({ attempt: 2, outcome: "succeeded" });
    // The hand-back is attempt 1's outcome: no attempt without one.
    expectOneEndingEach(new Map([[id, history]]));
  }, 60_000);

  it("projector: exits 0 mid-burst, and a new one catches up to views equal to a rebuild", async () => {
    await fullStack();
    const { outcomes, exitCode } = await burstWithShutdown(200, () => f.live("projector"));
    expect(exitCode, f.logs()).toBe(0);
    f.stack.start("projector");
    const ids = acceptedIds(outcomes);
    expect(ids).toHaveLength(200);
    const jobs = await waitForFinal(f.api, ids, { timeoutMs: 30_000, logs: f.logs });
    for (const [id, job] of jobs) expect(job, id).toMatchObject({ status: "succeeded" });
    expectOneEndingEach(await historiesOf(f.nc, f.names, ids));
    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
  }, 80_000);

  it("every service exits 0 once its work is done", async () => {
    await fullStack();
    const outcomes = await postJobs(f.api, Array.from({ length: 30 }, (_, i) => ({ type: "sum", params: { a: i, b: 1 } })), { concurrency: 8 });
    const ids = acceptedIds(outcomes);
    expect(ids).toHaveLength(30);
    await waitForFinal(f.api, ids, { timeoutMs: 30_000, logs: f.logs });
    expectOneEndingEach(await historiesOf(f.nc, f.names, ids));
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
    const live = f.stack.services.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    expect(live.map((p) => p.name).sort()).toEqual(["gateway", "projector", "runner", "runner"]);
    const codes = await Promise.all(live.map(async (p) => [p.name, await p.stop("SIGTERM")]));
    expect(codes, f.logs()).toEqual(live.map((p) => [p.name, 0]));
  }, 60_000);
});
