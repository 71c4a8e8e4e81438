import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@jobs/service";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { expectOneEndingEach, finishOf, historiesOf, startsOf } from "../support/job-history.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";
import { fuzzSeed, Prng } from "../fuzz/prng.ts";

/**
 * A thousand jobs over HTTP for ~20 s while a chaos loop SIGKILLs runners and the
 * projector and starts replacements, as a supervisor would. Every accepted job ends
 * succeeded and readable; the stream holds one ending per job, and an attempt without
 * an outcome of its own only where a killed runner had started it. Which runner each
 * round kills comes from a seeded PRNG; the seed is logged (FUZZ_SEED=<seed> replays
 * the same choices, though not the same timing).
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
/** Whether job i fails an attempt on purpose (its first, when a runner's death did not end that one first). */
const failsOnPurpose = (i: number) => i % 10 === 0;

/**
 * Kills a runner or the projector every CHAOS_EVERY_MS until `done`, starting a
 * replacement each time. Returns the killed runners' ids and every kill's exit code
 * (null: killed by the signal). Never throws: the test asserts on what it returns.
 */
async function chaos(done: () => boolean, prng: Prng): Promise<{ killedRunners: Set<string>; projectorKills: number; exitCodes: (number | null)[] }> {
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
      const victim = prng.pick([...live]);
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
  it("every accepted job succeeds and is readable; only killed runners' attempts ended without an outcome", async () => {
    const seed = fuzzSeed();
    console.log(`soak seed ${seed} (FUZZ_SEED=${seed} replays the choice of victims)`);
    const bodies = Array.from({ length: JOBS }, (_, i) => bodyOf(i));
    let sending = true;
    const chaosDone = chaos(() => !sending, new Prng(seed));
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

    const histories = await historiesOf(f.nc, f.names, ids);
    // One ending each. An attempt that stored no outcome (no JobAttemptFailed, no
    // JobFinished) must have been started by a runner the chaos SIGKILLed; a job can lose
    // at most one attempt to each killed runner (a live runner keeps its claim).
    expectOneEndingEach(histories, {
      lost: { fault: `the SIGKILL of runners ${[...killedRunners].join(", ")}`, explains: (s) => killedRunners.has(s.runner), maxPerJob: killedRunners.size },
    });
    let hitByKills = 0;
    ids.forEach((id, i) => {
      const history = histories.get(id)!;
      const starts = startsOf(history);
      if (starts.some((s) => killedRunners.has(s.runner))) hitByKills++;
      const where = `${id} (${bodies[i]!.type}): ${JSON.stringify(starts)}`;
      // The only failed attempts are the designed ones: a flaky job's first.
      const failed = history.flatMap(({ event }) => (event.type === "JobAttemptFailed" ? [event.data] : []));
      for (const fail of failed) expect(failsOnPurpose(i) && fail.attempt === 1 && fail.error.code === "error", `${where}: ${JSON.stringify(fail)}`).toBe(true);
      if (bodies[i]!.type === "flaky") expect(jobs.get(id).result, where).toEqual({ attempt: finishOf(history)!.attempt });
    });
    // The chaos did hit running jobs (else this proved little).
    console.log(`${hitByKills} jobs had an attempt started by one of the ${killedRunners.size} killed runners`);
    expect(hitByKills).toBeGreaterThan(0);

    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
  }, 120_000);
});
