import { sleep } from "@jobs/service";

import { now } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import type { BenchContext } from "../lib/context.ts";
import type { Durability } from "../lib/durability.ts";
import { HeapProbe } from "../lib/heap.ts";
import { HttpClient } from "../lib/http-client.ts";
import { readMemory, type MemoryReading } from "../lib/memory.ts";
import { startOurSystem } from "../lib/our-system.ts";
import { readRows } from "../lib/reads.ts";
import { submitBatches, submitSingles } from "../lib/submit.ts";
import { oursAt, type Row } from "../lib/table.ts";

/** "Flat": what a service holds after N jobs grows by at most this factor from the first checkpoint to the last. */
export const FLAT = 1.25;

/**
 * Scenario 5: one fresh deployment handles N no-op jobs; at each checkpoint (once the
 * jobs so far are done and folded) every service collects its garbage (a HeapProbe), then
 * the resident memory of every process and the live heap of each service are read. Then
 * `GET /job/:id` and `GET /job?limit=50` are timed with all N jobs in the view, one
 * request at a time.
 */
export async function steadyStateScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.steady;
  ctx.log(`steady state: starting a fresh deployment for ${o.jobs} jobs`);
  const heap = new HeapProbe();
  const d = ctx.soloDurability;
  const sys = await startOurSystem({ runners: 1, concurrency: ctx.options.concurrency, cpuProfDir: ctx.options.cpuProfDir, heapProbeEnv: heap.env(), durability: d }).catch(
    (err: unknown) => {
      heap.dispose();
      throw err;
    },
  );
  const stop = ctx.cleanup.add("steady-state deployment", async () => {
    await sys.stop();
    heap.dispose();
  });
  try {
    const memory = new Map<number, Map<string, MemoryReading>>();
    const tracker = new CompletionTracker(o.jobs);
    const watch = await sys.watchSucceeded(tracker.onSucceeded);
    const client = new HttpClient(sys.baseUrl, sys.token, 64);
    try {
      let submitted = 0;
      for (const checkpoint of o.checkpoints) {
        const n = checkpoint - submitted;
        ctx.log(`steady state: ${n} more jobs (to ${checkpoint})`);
        if (sys.batch) await submitBatches(client, n, 1000, 2, tracker.onAccepted);
        else await submitSingles(client, n, 64, tracker.onAccepted);
        submitted = checkpoint;
        await waitForDone(tracker, checkpoint);
        await sys.waitIdle();
        memory.set(checkpoint, await readMemory(sys, heap));
      }
    } finally {
      await watch.stop();
    }
    ctx.log(`steady state: timing GETs with ${o.jobs} jobs in the view`);
    const rows = memoryRows(o.checkpoints, memory, d);
    rows.push(...(await readRows(sys, client, tracker.ids(), o, `5 steady state: reads, ${o.jobs} jobs in the view`, d)));
    client.close();
    return rows;
  } finally {
    await stop();
  }
}

async function waitForDone(tracker: CompletionTracker, count: number): Promise<void> {
  const deadline = now() + 600_000;
  while (tracker.done < count) {
    if (now() > deadline) throw new Error(`only ${tracker.done} of ${count} jobs succeeded in 10 min`);
    await sleep(100);
  }
}

function memoryRows(checkpoints: readonly number[], memory: Map<number, Map<string, MemoryReading>>, d: Durability): Row[] {
  const first = checkpoints[0]!;
  const last = checkpoints[checkpoints.length - 1]!;
  const scenario = "5 steady state: memory";
  const names = [...memory.get(first)!.keys()];
  const at = (c: number, name: string) => memory.get(c)!.get(name)!;
  const rows: Row[] = [];
  for (const name of names) {
    for (const c of checkpoints) rows.push({ scenario, metric: `RSS MB after ${c} jobs, ${name}`, ...oursAt(d, [at(c, name).rss]) });
    for (const c of checkpoints) {
      const live = at(c, name).liveHeap;
      if (live !== undefined) rows.push({ scenario, metric: `live heap MB after ${c} jobs, ${name}`, ...oursAt(d, [live]), decimals: 1 });
    }
  }
  for (const name of names) {
    rows.push({ scenario, metric: `RSS growth ${first} -> ${last} jobs, ${name}`, ...oursAt(d, [at(last, name).rss / at(first, name).rss]), decimals: 2 });
    const [before, after] = [at(first, name).liveHeap, at(last, name).liveHeap];
    // The target is on the live heap: a service that keeps something per job grows there
    // whatever the collector's timing; nats-server's indexes grow with the stream by design.
    if (before !== undefined && after !== undefined) {
      rows.push({
        scenario,
        metric: `live heap growth ${first} -> ${last} jobs, ${name}`,
        ...oursAt(d, [after / before]),
        decimals: 2,
        target: { text: `flat (<= ${FLAT}x)`, met: (v: number) => v <= FLAT },
      });
    }
  }
  return rows;
}
