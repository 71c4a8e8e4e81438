import { afterEach, describe, expect, it } from "vitest";
import { decodeMetricsDelta, newJobId, type JobEvent } from "@jobs/core";
import { jetstream, PROJECTOR_ACK_WAIT_MS } from "@jobs/nats";
import { eventually } from "../../../test/support/eventually.ts";
import { startService } from "../../../test/support/services.ts";
import { startProjector } from "../src/projector.ts";
import { rebuildView } from "../src/rebuild.ts";
import { expectConsumerDrained, expectViewsFolded, publishJobs, startHarness, type Harness } from "./harness.ts";
import { expectIndexMatchesViews } from "./index-check.ts";
import { jobLife } from "./job-lives.ts";

/** What the projectors published on the metrics subject, added up (every job is of type sum). */
function countPublishedMetrics(harness: Harness) {
  const total = { started: 0, attemptsFailed: 0, finished: {} as Record<string, number>, runs: 0, runSeconds: 0, otherTypes: 0 };
  harness.nc.subscribe(harness.names.metricsSubject, {
    callback: (_err, msg) => {
      const delta = decodeMetricsDelta(msg.data);
      const types = new Set([...Object.keys(delta.started), ...Object.keys(delta.attemptsFailed), ...Object.keys(delta.finished), ...Object.keys(delta.runSeconds)]);
      total.otherTypes += [...types].filter((t) => t !== "sum").length;
      total.started += delta.started.sum ?? 0;
      total.attemptsFailed += delta.attemptsFailed.sum ?? 0;
      for (const [outcome, n] of Object.entries(delta.finished.sum ?? {})) total.finished[outcome] = (total.finished[outcome] ?? 0) + n;
      total.runs += delta.runSeconds.sum?.length ?? 0;
      total.runSeconds += (delta.runSeconds.sum ?? []).reduce((a, b) => a + b, 0);
    },
  });
  return () => ({ ...total, runSeconds: Math.round(total.runSeconds * 1000) / 1000 });
}

/**
 * publishJobs(300): 75 jobs of each shape in job-lives.ts. Starts 75 + 150 + 75, one failed
 * attempt each in shape 1, finishes by outcome, run times for the 225 jobs that finished
 * while running: 4 ms (shape 0), 2 ms (shape 1: its second attempt), 2 ms (shape 2).
 * The duplicated events count nothing.
 */
const METRICS_OF_300_JOBS = {
  started: 300,
  attemptsFailed: 75,
  finished: { succeeded: 150, failed: 75, cancelled: 75 },
  runs: 225,
  runSeconds: 0.6,
  otherTypes: 0,
};

/** The live projector against a real nats-server: every view equals the fold of its job's events. */
let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe("projector", () => {
  it("folds interleaved jobs, duplicates included, into exactly the fold of each job's events, and counts them once", async () => {
    h = await startHarness("proj");
    const harness = h;
    const counted = countPublishedMetrics(harness);
    harness.startProjector();
    const ids = await publishJobs(harness, 300);
    await eventually(() => expectViewsFolded(harness, ids), { timeoutMs: 20_000, intervalMs: 200 });
    await eventually(() => expectConsumerDrained(harness));
    await eventually(() => expect(counted()).toEqual(METRICS_OF_300_JOBS));
    // Two pages of the listing index, in the stream order of the requests, statuses as the views.
    expect(await expectIndexMatchesViews(harness, ids, { inStreamOrder: true })).toEqual({ copies: 0 });
    expect((await harness.index.head("app"))?.page).toBe(2);
  });

  it("gathers a flush until it holds flushMaxMessages (or its delay ends), one view write per job, and flushes what waits on stop", async () => {
    h = await startHarness("gather");
    const harness = h;
    // A delay no test waits for: only the count, or stop(), can start these flushes.
    const options = { flushDelayMs: 600_000, flushMaxMessages: 6 };
    const projector = startProjector({ nc: harness.nc, names: harness.names, views: harness.views, index: harness.index, history: harness.events, log: harness.log, options });
    const [whole, waiting] = [newJobId(), newJobId()];
    for (const event of jobLife(whole, 0)) await harness.append(event); // six events, one at a time
    await eventually(() => expectViewsFolded(harness, [whole]));
    expect(projector.totals).toMatchObject({ flushes: 1, messages: 6, written: 1 });

    await harness.append(jobLife(waiting, 0)[0]!);
    // Delivered to the projector and held unacked: one event, far from the count, waits
    // in its buffer (flush-buffer.unit has the timing rules; here it must not be written).
    await eventually(async () => {
      const info = await harness.jsm.consumers.info(harness.names.stream, harness.names.projectorConsumer);
      expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({ pending: 0, ackPending: 1 });
    });
    expect(await harness.views.get(waiting)).toBeNull();
    expect(projector.totals).toMatchObject({ flushes: 1, messages: 6 });
    await projector.stop();
    await expectViewsFolded(harness, [whole, waiting]);
    await eventually(() => expectConsumerDrained(harness)); // acks are sent, not awaited
    expect(projector.totals).toMatchObject({ flushes: 2, messages: 7, written: 2 });
  });

  it("two projectors sharing the consumer keep one listing index: each job once, statuses as the views", async () => {
    h = await startHarness("two");
    const harness = h;
    const counted = countPublishedMetrics(harness);
    const [a, b] = [harness.startProjector(), harness.startProjector()];
    const ids = await publishJobs(harness, 700);
    await eventually(() => expectViewsFolded(harness, ids), { timeoutMs: 30_000, intervalMs: 200 });
    await eventually(() => expectConsumerDrained(harness));
    // Each projector publishes what it wrote: together, every job once, also where one
    // folded a job's finish before the other folded its start.
    await eventually(() => expect(counted()).toMatchObject({ started: 700, attemptsFailed: 175, finished: { succeeded: 350, failed: 175, cancelled: 175 }, runs: 525 }));
    expect(await expectIndexMatchesViews(harness, ids)).toEqual({ copies: 0 });
    expect(a.totals.messages).toBeGreaterThan(0);
    expect(b.totals.messages).toBeGreaterThan(0);
  }, 60_000);

  it("acks poison (an undecodable message, events of a job never requested) and keeps folding", async () => {
    h = await startHarness("poison");
    const harness = h;
    harness.startProjector();
    const js = jetstream(harness.nc);
    const ghost = newJobId();
    await js.publish(harness.names.eventSubject(newJobId()), new TextEncoder().encode("{ not json"));
    const started: JobEvent = { type: "JobStarted", jobId: ghost, time: new Date().toISOString(), data: { attempt: 1, runner: "r" } };
    await harness.append(started);
    const ids = await publishJobs(harness, 20);
    await eventually(() => expectViewsFolded(harness, ids));
    await eventually(() => expectConsumerDrained(harness));
    expect(await harness.views.get(ghost)).toBeNull();
  });

  it("re-creates its durable consumer when it is deleted under it", async () => {
    h = await startHarness("deleted");
    const harness = h;
    harness.startProjector();
    const before = await publishJobs(harness, 30);
    await eventually(() => expectViewsFolded(harness, before));
    await harness.jsm.consumers.delete(harness.names.stream, harness.names.projectorConsumer);
    const after = await publishJobs(harness, 30);
    await eventually(() => expectViewsFolded(harness, [...before, ...after]), { timeoutMs: 30_000, intervalMs: 250 });
    await eventually(() => expectConsumerDrained(harness));
  }, 60_000);

  it(
    "a projector killed mid-burst is replaced; the new one catches up to what a rebuild derives",
    async () => {
      h = await startHarness("kill");
      const harness = h;
      const child = startService("projector", { NATS_URL: harness.server.url, JOBS_PREFIX: harness.names.prefix });
      const first = await publishJobs(harness, 200);
      // Mid-burst: the process has folded some of it, and holds unacked events.
      await eventually(async () => expect((await harness.kv.status()).values).toBeGreaterThan(0), { timeoutMs: 20_000 });
      const burst = publishJobs(harness, 400);
      await eventually(async () => expect((await harness.kv.status()).values).toBeGreaterThan(250), { timeoutMs: 20_000, intervalMs: 5 });
      expect(await child.stop("SIGKILL"), child.output()).toBeNull();
      const ids = [...first, ...(await burst)];

      harness.startProjector();
      // The new projector folds every job (it re-reads a job whose events arrive out of
      // order), but what the dead process held is redelivered only after the ack wait.
      await eventually(() => expectViewsFolded(harness, ids), { timeoutMs: 60_000, intervalMs: 500 });
      await eventually(() => expectConsumerDrained(harness), { timeoutMs: PROJECTOR_ACK_WAIT_MS + 15_000, intervalMs: 500 });
      await expectIndexMatchesViews(harness, ids); // a job the dead process had indexed but not saved may be listed twice: the view names one
      const summary = await rebuildView({ nc: harness.nc, names: harness.names, kv: harness.kv, log: harness.log });
      expect(summary).toMatchObject({ jobs: ids.length, equal: ids.length, written: 0, differed: 0, ahead: 0, orphansRemoved: 0, indexAppended: 0, indexCorrected: 0 });
    },
    120_000,
  );

  it("resumes by itself after nats-server restarts under it", async () => {
    h = await startHarness("restart");
    const harness = h;
    harness.startProjector();
    const before = await publishJobs(harness, 50);
    await eventually(() => expectViewsFolded(harness, before));

    await harness.server.stop();
    await harness.server.restart();
    // Our own connection reconnects too (a request sent before that can be lost: retry until JetStream answers).
    await eventually(() => harness.jsm.streams.info(harness.names.stream), { timeoutMs: 30_000, intervalMs: 250 });
    const after = await publishJobs(harness, 50);
    await eventually(() => expectViewsFolded(harness, [...before, ...after]), { timeoutMs: 45_000, intervalMs: 250 });
    await eventually(() => expectConsumerDrained(harness));
  }, 90_000);
});
