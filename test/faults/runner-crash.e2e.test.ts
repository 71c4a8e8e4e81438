import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { finishOf, jobHistory, startsOf } from "../support/job-history.ts";
import { waitForFinal } from "../support/job-traffic.ts";

/**
 * A runner process dies (SIGKILL) in the middle of a job: the job's claim lapses after
 * the consumer's ack wait and another runner runs it to the end. And the other way
 * round: a job longer than the ack wait on a healthy runner is never taken from it.
 */
const ACK_WAIT_MS = 5_000;
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "rcrash", types: ["countdown"], runnerIds: ["crash-a", "crash-b"], env: { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) } });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

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
  it("hands the job to the other runner within the ack wait, and it succeeds there", async () => {
    const { id, first } = await startedJob({ seconds: 3 });
    const survivor = first.runner === "crash-a" ? "crash-b" : "crash-a";
    const killedAt = Date.now();
    expect(await f.runner(first.runner).stop("SIGKILL")).toBeNull();

    const job = (await waitForFinal(f.api, [id], { timeoutMs: ACK_WAIT_MS + 15_000, logs: f.logs })).get(id);
    expect(job, f.logs()).toMatchObject({ status: "succeeded", result: { seconds: 3 }, attempts: 2 });

    const history = await jobHistory(f.nc, f.names, id);
    const starts = startsOf(history);
    expect(starts.map((s) => [s.attempt, s.runner])).toEqual([
      [1, first.runner],
      [2, survivor],
    ]);
    expect(finishOf(history)).toMatchObject({ attempt: 2, outcome: "succeeded" });
    const second = history.find((s) => s.seq === starts[1]!.seq)!.event;
    const handedOverAfterMs = Date.parse(second.time) - killedAt;
    // The claim lapses one ack wait after the last heartbeat, which came before the kill.
    expect(handedOverAfterMs, f.logs()).toBeLessThan(ACK_WAIT_MS + 3_000);
    expect(f.unexpectedExits()).toEqual([]);
  }, 40_000);

  it("keeps the claim of a job longer than the ack wait: exactly one start", async () => {
    // Two runners again, so a lapsed claim would be taken at once.
    f.startRunner("crash-c");
    await eventually(async () => expect((await f.api.get("/readyz")).status).toBe(200));
    const { id } = await startedJob({ seconds: Math.ceil((ACK_WAIT_MS * 1.6) / 1000) });

    const job = (await waitForFinal(f.api, [id], { timeoutMs: 20_000, logs: f.logs })).get(id);
    expect(job).toMatchObject({ status: "succeeded", attempts: 1 });
    const history = await jobHistory(f.nc, f.names, id);
    expect(startsOf(history), f.logs()).toHaveLength(1);
    expect(history.map((s) => s.event.type)).not.toContain("JobAttemptFailed");
    expect(f.unexpectedExits()).toEqual([]);
  }, 40_000);
});
