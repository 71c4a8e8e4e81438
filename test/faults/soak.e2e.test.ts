import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@jobs/service";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { allJobHistories, finishOf, startsOf } from "../support/job-history.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";

/**
 * A thousand jobs over HTTP for ~20 s while a chaos loop SIGKILLs runners and the
 * projector and starts replacements, as a supervisor would. Every accepted job ends
 * succeeded and readable, and the stream shows no attempt ran twice except where a
 * killed runner had started it.
 */
const JOBS = 1_000;
const ACK_WAIT_MS = 5_000;
const CHAOS_EVERY_MS = 2_500;
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({
    label: "soak",
    types: ["sleep", "flaky"],
    runnerIds: ["soak-1", "soak-2", "soak-3"],
    env: { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS), RUNNER_TEST_JOBS: "1" },
  });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

/** Job i: every 10th fails its first attempt on purpose, every 10th (offset 5) runs a second or so, the rest are quick. */
function bodyOf(i: number) {
  if (i % 10 === 0) return { type: "flaky", params: { failAttempts: 1, mode: "throw" }, maxAttempts: 10 };
  if (i % 10 === 5) return { type: "sleep", params: { ms: 1_000 + (i % 500) }, maxAttempts: 10 };
  return { type: "sleep", params: { ms: i % 50 }, maxAttempts: 10 };
}
/** The attempts job i makes when nothing goes wrong. */
const designedStarts = (i: number) => (i % 10 === 0 ? 2 : 1);

/**
 * Kills a runner or the projector every CHAOS_EVERY_MS until `done`, starting a
 * replacement each time. Returns the killed runners' ids and every kill's exit code
 * (null: killed by the signal). Never throws: the test asserts on what it returns.
 */
async function chaos(done: () => boolean): Promise<{ killedRunners: Set<string>; projectorKills: number; exitCodes: (number | null)[] }> {
  const killedRunners = new Set<string>();
  const live = new Set(["soak-1", "soak-2", "soak-3"]);
  const exitCodes: (number | null)[] = [];
  let next = 4;
  let projectorKills = 0;
  for (let round = 1; !done(); round++) {
    await sleep(CHAOS_EVERY_MS); // the chaos schedule, not a wait for a condition
    if (round % 3 === 0) {
      exitCodes.push(await f.live("projector").stop("SIGKILL"));
      f.stack.start("projector");
      projectorKills++;
    } else {
      const victim = [...live][Math.floor(Math.random() * live.size)]!;
      killedRunners.add(victim); // before the kill: its starts may be in the stream already
      exitCodes.push(await f.runner(victim).stop("SIGKILL"));
      live.delete(victim);
      const replacement = `soak-${next++}`;
      f.startRunner(replacement);
      live.add(replacement);
    }
  }
  return { killedRunners, projectorKills, exitCodes };
}

describe("soak: 1,000 jobs while runners and the projector are killed", () => {
  it("every accepted job succeeds and is readable; only killed runners' attempts ran twice", async () => {
    const bodies = Array.from({ length: JOBS }, (_, i) => bodyOf(i));
    let sending = true;
    const chaosDone = chaos(() => !sending);
    // 8 at a time with a pause: ~50 jobs/s, so traffic flows through the whole chaos run.
    const outcomes = await postJobs(f.api, bodies, { concurrency: 8, pauseMs: 120 }).finally(() => (sending = false));
    const { killedRunners, projectorKills, exitCodes } = await chaosDone;
    expect(exitCodes.every((c) => c === null), "a process exited before its SIGKILL").toBe(true);
    expect(killedRunners.size).toBeGreaterThanOrEqual(4);
    expect(projectorKills).toBeGreaterThanOrEqual(2);

    const ids = acceptedIds(outcomes);
    expect(ids, JSON.stringify(outcomes.find((o) => !("response" in o) || o.response.status !== 202))).toHaveLength(JOBS);

    const jobs = await waitForFinal(f.api, ids, { timeoutMs: 60_000, logs: f.logs, concurrency: 32 });
    ids.forEach((id, i) => {
      const b = bodies[i]!;
      expect(jobs.get(id), id).toMatchObject({ status: "succeeded", ...(b.type === "sleep" ? { result: b.params } : {}) });
    });

    const histories = await allJobHistories(f.nc, f.names);
    let hitByKills = 0;
    ids.forEach((id, i) => {
      const history = histories.get(id) ?? [];
      const starts = startsOf(history);
      const killedStarts = starts.filter((s) => killedRunners.has(s.runner)).length;
      if (killedStarts > 0) hitByKills++;
      const where = `${id} (${bodies[i]!.type}): ${JSON.stringify(starts)}`;
      // Attempts are numbered 1..n, one start each, and the finish names the last one.
      expect(starts.map((s) => s.attempt), where).toEqual(starts.map((_, k) => k + 1));
      expect(finishOf(history), where).toMatchObject({ outcome: "succeeded", attempt: starts.length });
      // Beyond the designed attempts, only a killed runner's start can add one.
      expect(starts.length - designedStarts(i), where).toBeLessThanOrEqual(killedStarts);
      if (killedStarts === 0) expect(starts.length, where).toBe(designedStarts(i));
      if (bodies[i]!.type === "flaky") expect(jobs.get(id).result, where).toEqual({ attempt: starts.length });
    });
    // The chaos did hit running jobs (else this proved little).
    expect(hitByKills).toBeGreaterThan(0);

    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
  }, 120_000);
});
