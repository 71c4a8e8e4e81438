import { now } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import type { BenchContext } from "../lib/context.ts";
import { HttpClient } from "../lib/http-client.ts";
import { startOurSystem, type OurSystem } from "../lib/our-system.ts";
import { median } from "../lib/stats.ts";
import { submitBatches, submitSingles } from "../lib/submit.ts";
import { oursAt, type Row } from "../lib/table.ts";

/**
 * Scenario 4: does adding runner processes drain work faster? N jobs that each sleep
 * 50 ms, with 1, 2 and 4 runners of the same RUNNER_CONCURRENCY on one deployment
 * (runners are added between rounds, as one would add them to a live system).
 */
export async function scaleOutScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.scaleOut;
  const counts = [...o.runnerCounts].sort((a, b) => a - b);
  ctx.log(`scale-out: starting a deployment with ${counts[0]} runner(s)`);
  const sys = await startOurSystem({ runners: counts[0]!, concurrency: ctx.options.concurrency, cpuProfDir: ctx.options.cpuProfDir, durability: ctx.soloDurability });
  const stop = ctx.cleanup.add("scale-out deployment", () => sys.stop());
  const perCount = new Map<number, number[]>();
  try {
    for (const count of counts) {
      while (sys.runners < count) await sys.addRunner();
      const runs: number[] = [];
      for (let i = 0; i < ctx.options.runs; i++) {
        await sys.waitIdle();
        ctx.log(`scale-out: ${count} runner(s), run ${i + 1}/${ctx.options.runs}`);
        runs.push(await drainRun(sys, o.jobs, o.sleepMs));
      }
      perCount.set(count, runs);
    }
  } finally {
    await stop();
  }
  const scenario = `4 scale-out, ${o.jobs} x sleep ${o.sleepMs} ms, concurrency ${ctx.options.concurrency}`;
  const rows: Row[] = counts.map((c) => ({ scenario, metric: `jobs/s with ${c} runner${c === 1 ? "" : "s"}`, ...oursAt(ctx.soloDurability, perCount.get(c)!) }));
  const first = counts[0]!;
  const last = counts[counts.length - 1]!;
  if (last !== first) {
    // The ratio of the medians: one value, which the table shows as it is.
    rows.push({
      scenario,
      metric: `${last} runners / ${first} runner${first === 1 ? "" : "s"}`,
      ...oursAt(ctx.soloDurability, [median(perCount.get(last)!) / median(perCount.get(first)!)]),
      decimals: 2,
      target: { text: ">= 3x", met: (v) => v >= 3 },
    });
  }
  return rows;
}

async function drainRun(sys: OurSystem, jobs: number, sleepMs: number): Promise<number> {
  const body = { type: "sleep", params: { ms: sleepMs } };
  const tracker = new CompletionTracker(jobs);
  const watch = await sys.watchSucceeded(tracker.onSucceeded);
  const client = new HttpClient(sys.baseUrl, sys.token, 64);
  const start = now();
  try {
    if (sys.batch) await submitBatches(client, jobs, 500, 2, tracker.onAccepted, body);
    else await submitSingles(client, jobs, 64, tracker.onAccepted, body);
    await tracker.waitForAll(120_000 + jobs * sleepMs);
  } finally {
    await watch.stop();
    client.close();
  }
  return jobs / ((tracker.lastCompletion() - start) / 1000);
}
