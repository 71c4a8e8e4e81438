import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { expectOneEndingEach, finishOf, jobHistory, startsOf } from "../support/job-history.ts";
import { waitForFinal } from "../support/job-traffic.ts";

/**
 * A runner process dies (SIGKILL) in the middle of a job: the job's claim lapses after
 * the consumer's ack wait and another runner runs it to the end. And the other way
 * round: a job longer than the ack wait on a healthy runner is never taken from it.
 * Each test brings the stack to two live runners itself before it starts its job.
 */
const ACK_WAIT_MS = 5_000;
/** How often a runner renews its claim (a third of the ack wait, as the runner does). */
const HEARTBEAT_MS = ACK_WAIT_MS / 3;
let f: FaultStack;
let spare = 0;

beforeAll(async () => {
  f = await startFaultStack({ label: "rcrash", types: ["countdown"], runnerIds: ["crash-a", "crash-b"], env: { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) } });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

/** Two runners pulling, whatever an earlier test killed. */
async function twoLiveRunners(): Promise<void> {
  while (f.liveRunners().length < 2) await f.startRunnerReady(`crash-spare-${++spare}`);
}

async function startedJob(params: { seconds: number }) {
  const created = await f.api.post("/job", { type: "countdown", params });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const id: string = created.body.id;
  // Mid-job: started and already reporting progress.
  const first = await eventually(
    async () => {
      const history = await jobHistory(f.nc, f.names, id);
      expect(history.map((s) => s.event.type)).toContain("JobProgress");
      return startsOf(history)[0]!;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return { id, first };
}

describe("a runner crash", () => {
  it("hands the job to the other runner once the ack wait runs out, and it succeeds there", async () => {
    await twoLiveRunners();
    const { id, first } = await startedJob({ seconds: 3 });
    const survivor = f.liveRunners().find((r) => r !== first.runner)!;
    const killedAt = Date.now();
    expect(await f.runner(first.runner).stop("SIGKILL")).toBeNull();

    // Bounded only to stop a hung test: the hand-over itself is the ack wait's doing.
    const job = (await waitForFinal(f.api, [id], { timeoutMs: ACK_WAIT_MS + 30_000, logs: f.logs })).get(id);
    expect(job, f.logs()).toMatchObject({ status: "succeeded", result: { seconds: 3 }, attempts: 2 });

    const history = await jobHistory(f.nc, f.names, id);
    const starts = startsOf(history);
    expect(starts.map((s) => [s.attempt, s.runner])).toEqual([
      [1, first.runner],
      [2, survivor],
    ]);
    // One ending; attempt 1 stored none of its own, and only the kill explains that.
    expectOneEndingEach(new Map([[id, history]]), {
      lost: { fault: `the SIGKILL of ${first.runner} during attempt 1`, explains: (s) => s.runner === first.runner && s.attempt === 1, maxPerJob: 1 },
    });
    expect(finishOf(history)).toMatchObject({ attempt: 2, outcome: "succeeded" });
    // Handed over because the claim lapsed, not sooner: the last heartbeat came at most
    // HEARTBEAT_MS before the kill, and the claim lasts ACK_WAIT_MS after it (500 ms for
    // the runners' clocks and the server's timer).
    const second = history.find((s) => s.seq === starts[1]!.seq)!.event;
    const handedOverAfterMs = Date.parse(second.time) - killedAt;
    expect(handedOverAfterMs, f.logs()).toBeGreaterThanOrEqual(ACK_WAIT_MS - HEARTBEAT_MS - 500);
    expect(f.unexpectedExits()).toEqual([]);
  }, 60_000);

  it("keeps the claim of a job longer than the ack wait: exactly one start", async () => {
    // Two runners, so a lapsed claim would be taken at once by the other.
    await twoLiveRunners();
    const { id } = await startedJob({ seconds: Math.ceil((ACK_WAIT_MS * 1.6) / 1000) });

    const job = (await waitForFinal(f.api, [id], { timeoutMs: 30_000, logs: f.logs })).get(id);
    expect(job).toMatchObject({ status: "succeeded", attempts: 1 });
    const history = await jobHistory(f.nc, f.names, id);
    expect(startsOf(history), f.logs()).toHaveLength(1);
    expect(history.map((s) => s.event.type)).not.toContain("JobAttemptFailed");
    // No fault here: one start, one ending.
    expectOneEndingEach(new Map([[id, history]]));
    expect(f.unexpectedExits()).toEqual([]);
  }, 60_000);
});
