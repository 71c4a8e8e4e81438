import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { expectOneEndingEach, historiesOf } from "../support/job-history.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";

/**
 * The projector dies (SIGKILL) in the middle of a burst, holding events it had not
 * acked; a new one takes over. Every job's view ends final, and the views equal a
 * rebuild from the stream. The runners never notice: each job ends exactly once, and
 * no attempt lacks an outcome (no fault touched a runner). (The events the dead projector held come back after the
 * projector consumer's ack wait, 10 s: that bounds how long a view can lag.)
 */
const JOBS = 300;
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "pcrash", types: ["sum", "sleep"], runnerIds: ["pc-a", "pc-b"] });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

/**
 * SIGKILLs the projector at a moment it holds delivered, unacked events (polling the
 * consumer), then starts a replacement as a supervisor would. Returns how many events
 * the dead one left unacked.
 */
async function killProjectorHoldingEvents(): Promise<{ code: number | null; unackedAtDeath: number }> {
  const jsm = await jetstreamManager(f.nc);
  const unacked = async () => (await jsm.consumers.info(f.names.stream, f.names.projectorConsumer)).num_ack_pending;
  const victim = f.live("projector");
  await eventually(async () => expect(await unacked()).toBeGreaterThan(0), { timeoutMs: 5_000, intervalMs: 5 }).catch(() => undefined);
  const code = await victim.stop("SIGKILL");
  const unackedAtDeath = await unacked();
  f.stack.start("projector");
  return { code, unackedAtDeath };
}

describe("a projector crash mid-burst", () => {
  it("loses no view: every job ends final and the views equal a rebuild", async () => {
    const bodies = Array.from({ length: JOBS }, (_, i) => (i % 2 === 0 ? { type: "sum", params: { a: i, b: 1 } } : { type: "sleep", params: { ms: i % 20 } }));
    let killed: Promise<{ code: number | null; unackedAtDeath: number }> | undefined;
    const outcomes = await postJobs(f.api, bodies, {
      concurrency: 16,
      onOutcome: (_, done) => {
        if (done === Math.floor(JOBS / 3)) killed = killProjectorHoldingEvents();
      },
    });
    const { code, unackedAtDeath } = (await killed)!;
    expect(code).toBeNull();
    // The crash really took events with it (else this would test an idle projector).
    expect(unackedAtDeath, "the projector held no unacked events when it died").toBeGreaterThan(0);

    const problems = outcomes.filter((o) => !("response" in o) || o.response.status !== 202);
    expect(problems.map((o) => ("error" in o ? o.error.message : o.response.status)), f.logs()).toEqual([]);
    const ids = acceptedIds(outcomes);
    expect(ids).toHaveLength(JOBS);

    const jobs = await waitForFinal(f.api, ids, { timeoutMs: 60_000, logs: f.logs });
    ids.forEach((id, i) => {
      const body = bodies[i]!;
      expect(jobs.get(id), id).toMatchObject({ status: "succeeded", result: body.type === "sum" ? { value: i + 1 } : { ms: i % 20 } });
    });

    expectOneEndingEach(await historiesOf(f.nc, f.names, ids));
    const summary = await rebuildAfterCatchUp(f.nc, f.names, f.logs);
    expectViewsMatchRebuild(summary);
    expect(summary.jobs).toBe(JOBS);
    expect(f.unexpectedExits()).toEqual([]);
  }, 85_000);
});
