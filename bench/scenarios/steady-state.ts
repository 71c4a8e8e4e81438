import { now } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import type { BenchContext } from "../lib/context.ts";
import { HeapProbe } from "../lib/heap.ts";
import { HttpClient } from "../lib/http-client.ts";
import { startOurSystem, type OurSystem } from "../lib/our-system.ts";
import { rssBytes } from "../lib/proc-stats.ts";
import { percentile } from "../lib/stats.ts";
import { submitBatches, submitSingles } from "../lib/submit.ts";
import { notAvailable, type Row } from "../lib/table.ts";

const MB = 2 ** 20;
/** "Flat": what a service holds after N jobs grows by at most this factor from the first checkpoint to the last. */
const FLAT = 1.25;

/** What is read of each process at a checkpoint, in MB. */
interface MemoryReading {
  rss: number;
  /** V8 heap in use right after a full collection (our services only). */
  liveHeap?: number;
}

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
  const sys = await startOurSystem({ runners: 1, concurrency: ctx.options.concurrency, cpuProfDir: ctx.options.cpuProfDir, heapProbeEnv: heap.env() }).catch(
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
    const rows = memoryRows(o.checkpoints, memory);
    rows.push(...(await getRows(sys, client, tracker.ids(), o)));
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
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readMemory(sys: OurSystem, heap: HeapProbe): Promise<Map<string, MemoryReading>> {
  const out = new Map<string, MemoryReading>();
  for (const p of sys.processes()) {
    // nats-server is no Node process: its resident size is all there is to read.
    const liveHeap = p.role === "store" ? undefined : (await heap.afterFullGc(p.pid)).heapUsed / MB;
    out.set(p.name, { rss: rssBytes(p.pid) / MB, ...(liveHeap === undefined ? {} : { liveHeap }) });
  }
  return out;
}

function memoryRows(checkpoints: readonly number[], memory: Map<number, Map<string, MemoryReading>>): Row[] {
  const first = checkpoints[0]!;
  const last = checkpoints[checkpoints.length - 1]!;
  const scenario = "5 steady state: memory";
  const names = [...memory.get(first)!.keys()];
  const at = (c: number, name: string) => memory.get(c)!.get(name)!;
  const rows: Row[] = [];
  for (const name of names) {
    for (const c of checkpoints) rows.push({ scenario, metric: `RSS MB after ${c} jobs, ${name}`, ours: [at(c, name).rss] });
    for (const c of checkpoints) {
      const live = at(c, name).liveHeap;
      if (live !== undefined) rows.push({ scenario, metric: `live heap MB after ${c} jobs, ${name}`, ours: [live], decimals: 1 });
    }
  }
  for (const name of names) {
    rows.push({ scenario, metric: `RSS growth ${first} -> ${last} jobs, ${name}`, ours: [at(last, name).rss / at(first, name).rss], decimals: 2 });
    const [before, after] = [at(first, name).liveHeap, at(last, name).liveHeap];
    // The target is on the live heap: a service that keeps something per job grows there
    // whatever the collector's timing; nats-server's indexes grow with the stream by design.
    if (before !== undefined && after !== undefined) {
      rows.push({
        scenario,
        metric: `live heap growth ${first} -> ${last} jobs, ${name}`,
        ours: [after / before],
        decimals: 2,
        target: { text: `flat (<= ${FLAT}x)`, met: (v: number) => v <= FLAT },
      });
    }
  }
  return rows;
}

async function getRows(sys: OurSystem, client: HttpClient, ids: string[], o: { jobs: number; gets: number; lists: number }): Promise<Row[]> {
  const scenario = `5 steady state: reads, ${o.jobs} jobs in the view`;
  const byId = await timeSequential(o.gets, async (i) => {
    const id = ids[Math.floor((i * 7919) % ids.length)]!; // spread over the whole range of ids
    return client.request("GET", `/job/${id}`);
  });
  const rows: Row[] = [
    { scenario, metric: "GET /job/:id p50 (ms)", ours: [percentile(byId, 50)], decimals: 2 },
    { scenario, metric: "GET /job/:id p99 (ms)", ours: [percentile(byId, 99)], decimals: 2 },
  ];
  if (!sys.listing) {
    const na = notAvailable("GET /job answers 404/405: not built yet");
    rows.push({ scenario, metric: "GET /job?limit=50 p50 (ms)", ours: na }, { scenario, metric: "GET /job?limit=50 p99 (ms)", ours: na });
    return rows;
  }
  const lists = await timeSequential(o.lists, () => client.request("GET", "/job?limit=50"));
  rows.push(
    { scenario, metric: "GET /job?limit=50 p50 (ms)", ours: [percentile(lists, 50)], decimals: 2 },
    { scenario, metric: "GET /job?limit=50 p99 (ms)", ours: [percentile(lists, 99)], decimals: 2 },
  );
  return rows;
}

/** Times `count` requests one after another; any answer but 200 stops the run. */
async function timeSequential(count: number, request: (i: number) => Promise<{ status: number; body: string }>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const res = await request(i);
    times.push(now() - t0);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return times;
}
