import { connect, jetstreamManager } from "@jobs/nats";
import { jobNames } from "@jobs/core";
import { now, waitUntil } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import type { BenchContext } from "../lib/context.ts";
import { HttpClient } from "../lib/http-client.ts";
import { MB } from "../lib/memory.ts";
import { startOurSystem } from "../lib/our-system.ts";
import { rssBytes } from "../lib/proc-stats.ts";
import { submitBatches } from "../lib/submit.ts";
import { oursAt, type Row } from "../lib/table.ts";

/**
 * Scenario 7: do waiting jobs cost nothing? N jobs with a runAt an hour ahead (through
 * POST /job/batch), routed into server-side schedules of the dispatch stream; then, one at
 * a time, immediate no-op jobs: how long from 202 to succeeded, and what nats-server's
 * memory holds with the N schedules pending.
 */
export async function waitingScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.waiting;
  const sys = await startOurSystem({ runners: 1, concurrency: ctx.options.concurrency, durability: ctx.soloDurability });
  const stop = ctx.cleanup.add("waiting deployment", () => sys.stop());
  const nc = await connect({ servers: sys.nats.url });
  const client = new HttpClient(sys.baseUrl, sys.token, 8);
  try {
    const jsm = await jetstreamManager(nc);
    const natsPid = sys.processes().find((p) => p.role === "store")!.pid;
    const rssBefore = rssBytes(natsPid);
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    ctx.log(`waiting: submitting ${o.jobs} jobs with runAt ${runAt}`);
    const started = now();
    await submitBatches(client, o.jobs, 1000, 4, () => undefined, { type: "sleep", params: { ms: 0 }, runAt });
    const names = jobNames(sys.serviceEnv.JOBS_PREFIX);
    await waitUntil(
      async () => {
        const routing = await jsm.consumers.info(names.stream, names.routingConsumer("normal"));
        return routing.num_pending + routing.num_ack_pending === 0;
      },
      600_000,
      () => "the routed requests were not all routed",
      250,
    );
    const routedPerS = o.jobs / ((now() - started) / 1000);
    const pending = (await jsm.streams.info(names.dispatchStream)).state.messages;
    const rssWaiting = rssBytes(natsPid);
    ctx.log(`waiting: ${pending} messages in the dispatch stream; nats-server RSS ${(rssBefore / MB).toFixed(0)} -> ${(rssWaiting / MB).toFixed(0)} MB`);

    const latencies: number[] = [];
    for (let i = 0; i < o.immediate; i++) {
      const tracker = new CompletionTracker(1);
      const watch = await sys.watchSucceeded(tracker.onSucceeded);
      try {
        const res = await client.request("POST", "/job", { type: "sleep", params: { ms: 0 } });
        if (res.status !== 202) throw new Error(`POST /job answered ${res.status}: ${res.body}`);
        tracker.onAccepted((JSON.parse(res.body) as { id: string }).id, now());
        await tracker.waitForAll(30_000);
        latencies.push(...tracker.latencies());
      } finally {
        await watch.stop();
      }
    }
    const scenario = `7 waiting: ${o.jobs} jobs with runAt an hour ahead`;
    return [
      { scenario, metric: "routed into schedules, jobs/s", ...oursAt(ctx.soloDurability, [routedPerS]) },
      { scenario, metric: `an immediate job beside them, 202 -> succeeded ms (${o.immediate} jobs)`, ...oursAt(ctx.soloDurability, latencies), target: { text: "< 1000", met: (v) => v < 1000 } },
      { scenario, metric: "nats-server RSS MB, before", ...oursAt(ctx.soloDurability, [rssBefore / MB]) },
      { scenario, metric: "nats-server RSS MB, with them waiting", ...oursAt(ctx.soloDurability, [rssWaiting / MB]) },
    ];
  } finally {
    client.close();
    await nc.close();
    await stop();
  }
}
