import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { now, waitUntil } from "../lib/clock.ts";
import type { BenchContext } from "../lib/context.ts";
import type { Durability } from "../lib/durability.ts";
import { HeapProbe } from "../lib/heap.ts";
import { HttpClient } from "../lib/http-client.ts";
import { loadAverage } from "../lib/machine.ts";
import { MB, readMemory, type MemoryReading } from "../lib/memory.ts";
import { BENCH_DIR } from "../lib/node-process.ts";
import { startOurSystem, type OurSystem } from "../lib/our-system.ts";
import { rssBytes } from "../lib/proc-stats.ts";
import { readRows } from "../lib/reads.ts";
import { submitBatches } from "../lib/submit.ts";
import { notAvailable, oursAt, type NotAvailable, type Row, type Target } from "../lib/table.ts";
import { FLAT } from "./steady-state.ts";

const ROOT = resolve(BENCH_DIR, "..");
/**
 * The jobs of the first checkpoint (at most a tenth of the run), after which each
 * service's heap is "warm": the projector keeps the views of the 20,000 jobs it folded
 * last in a cache, so its heap grows until then by design.
 */
const FIRST_CHECKPOINT = 50_000;

type StreamStates = Awaited<ReturnType<OurSystem["streamStates"]>>;

/** What the store holds at a checkpoint. */
interface StoreReading {
  /** nats-server's resident memory, MB. */
  rss: number;
  /** The store directory on disk (allocated blocks, as `du`), MB. */
  disk: number;
  streams: StreamStates;
}

interface RebuildRun {
  seconds: number;
  peakRssMb: number;
  /** `pnpm projector:rebuild`'s own summary lines, e.g. "events read" -> "3000000 (stream ...)". */
  summary: Map<string, string>;
}

/**
 * Scenario 6 (`--only=scale`, not in the default run): a million no-op jobs (or
 * --scale-jobs) through one fresh deployment by `POST /job/batch` (1000 per request, a
 * few in flight), every one kept, as the stream keeps every job. It reads what the
 * store costs per job retained (nats-server's resident memory, the store on disk, the
 * subjects of each stream), whether any service's live heap grows with the jobs it
 * handled, the reads with all of them in the view, how long a restart of nats-server on
 * that store takes until the gateway is ready again, and how long `pnpm
 * projector:rebuild` takes over all of it.
 */
export async function scaleScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.scale;
  const d = ctx.soloDurability;
  const first = Math.min(FIRST_CHECKPOINT, Math.floor(o.jobs / 10));
  ctx.log(`scale: starting a fresh deployment for ${o.jobs} jobs (durability ${d})`);
  const heap = new HeapProbe();
  const sys = await startOurSystem({ runners: 1, concurrency: ctx.options.concurrency, cpuProfDir: ctx.options.cpuProfDir, heapProbeEnv: heap.env(), durability: d }).catch(
    (err: unknown) => {
      heap.dispose();
      throw err;
    },
  );
  const stop = ctx.cleanup.add("scale deployment", async () => {
    await sys.stop();
    heap.dispose();
  });
  const client = new HttpClient(sys.baseUrl, sys.token, o.inFlight);
  try {
    const ids: string[] = [];
    const memory = new Map<number, Map<string, MemoryReading>>();
    const store = new Map<number, StoreReading>();
    const checkpoint = async (jobs: number) => {
      memory.set(jobs, await readMemory(sys, heap));
      store.set(jobs, await readStore(sys));
      const s = store.get(jobs)!;
      ctx.log(`scale: ${jobs} jobs: nats-server RSS ${s.rss.toFixed(0)} MB, store ${s.disk.toFixed(0)} MB on disk, subjects ${subjectsLine(s.streams)}`);
    };
    await checkpoint(0);

    let lastResendLog = 0;
    const onResend = (items: number, example: string) => {
      if (now() - lastResendLog < 10_000) return;
      lastResendLog = now();
      ctx.log(`scale: ${items} items of a batch answered 503, sending them again (${example})`);
    };
    const withLogs = (err: unknown) => {
      throw new Error(`${(err as Error)?.message ?? String(err)}\nthe services' output:\n${sys.logs()}`, { cause: err });
    };

    ctx.log(`scale: the first ${first} jobs`);
    let { resent } = await submitBatches(client, first, o.batchSize, o.inFlight, (id) => ids.push(id), undefined, onResend).catch(withLogs);
    await sys.waitIdle();
    await checkpoint(first);

    const rest = o.jobs - first;
    ctx.log(`scale: ${rest} more jobs, ${o.batchSize} per POST /job/batch, ${o.inFlight} in flight`);
    const peak = sampleRss(() => sys.nats.pid());
    const start = now();
    let acceptedAt: number;
    let idleAt: number;
    try {
      let lastLog = start;
      let accepted = 0;
      const load = await submitBatches(client, rest, o.batchSize, o.inFlight, (id) => {
        ids.push(id);
        accepted++;
        if (now() - lastLog > 30_000) {
          lastLog = now();
          const pid = sys.nats.pid();
          ctx.log(`scale: ${accepted} of ${rest} accepted (${((accepted * 1000) / (lastLog - start)).toFixed(0)} jobs/s), nats-server RSS ${pid ? (rssBytes(pid) / MB).toFixed(0) : "?"} MB, load ${loadAverage()}`);
        }
      }, undefined, onResend).catch(withLogs);
      resent += load.resent;
      acceptedAt = now();
      ctx.log(`scale: all accepted in ${((acceptedAt - start) / 1000).toFixed(0)} s (${resent} batch items answered 503 and sent again); waiting for the runners and the projector`);
      await sys.waitIdle(600_000 + o.jobs * 20);
      idleAt = now();
    } finally {
      peak.stop();
    }
    const peakRss = peak.stop();
    await checkpoint(o.jobs);
    const stored = viewCount(store.get(o.jobs)!.streams);

    ctx.log(`scale: timing GETs with ${o.jobs} jobs in the view`);
    const reads = await readRows(sys, client, ids, o, `6 scale: reads, ${o.jobs} jobs in the view`, d);

    // A failure from here on costs only its own rows: the figures above can take an hour.
    const failed = (what: string) => (err: unknown) => {
      const message = `scale: ${what} failed: ${(err as Error)?.stack ?? String(err)}`;
      ctx.log(message);
      ctx.note(message);
      return notAvailable(`${what} failed`);
    };
    ctx.log("scale: restarting nats-server on its store (SIGTERM, then start on the same store and port)");
    const restart = await restartNats(sys, client, ids).catch(failed("the restart of nats-server"));
    if (!("na" in restart)) ctx.log(`scale: nats-server up in ${restart.toJetStream.toFixed(1)} s, gateway ready in ${restart.toReady.toFixed(1)} s`);

    ctx.log("scale: pnpm projector:rebuild");
    const rebuild = "na" in restart ? restart : await runRebuild(sys).catch(failed("pnpm projector:rebuild"));
    if (!("na" in rebuild)) ctx.log(`scale: rebuild took ${rebuild.seconds.toFixed(1)} s`);
    const afterRebuildRss = "na" in rebuild ? Number.NaN : rssBytes(sys.nats.pid()!) / MB;

    return [
      ...loadRows(o, first, rest, (acceptedAt - start) / 1000, (idleAt - start) / 1000, { accepted: ids.length, resent, stored }, d),
      ...storeRows(o.jobs, first, stored, store, peakRss, "na" in restart ? Number.NaN : restart.rssAfter, afterRebuildRss, d),
      ...heapRows(o.jobs, [0, first, o.jobs], memory, d),
      ...reads,
      ...restartRows(o.jobs, restart, d),
      ...rebuildRows(o.jobs, rebuild, d),
    ];
  } finally {
    client.close();
    await stop();
  }
}

/** Jobs with a view: every job stored, once all are folded (a job answered 503 may be stored too). */
function viewCount(streams: StreamStates): number {
  const view = Object.entries(streams).find(([name]) => name.startsWith("KV_") && name.endsWith("-view"));
  return view?.[1].subjects ?? Number.NaN;
}

function subjectsLine(streams: StreamStates): string {
  return Object.entries(streams)
    .map(([name, s]) => `${name} ${s.subjects}`)
    .join(", ");
}

async function readStore(sys: OurSystem): Promise<StoreReading> {
  return { rss: rssBytes(sys.nats.pid()!) / MB, disk: diskBytes(sys.nats.storeDir) / MB, streams: await sys.streamStates() };
}

/** Bytes allocated on disk under `dir` (what `du -s` counts). */
function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? diskBytes(path) : statSync(path).blocks * 512;
    } catch {
      // removed meanwhile (a compacted block)
    }
  }
  return total;
}

/** The highest resident size of a process while the load runs, read every second. */
function sampleRss(pid: () => number | undefined): { stop(): number } {
  let peak = 0;
  const read = () => {
    const p = pid();
    if (p !== undefined) peak = Math.max(peak, rssBytes(p) / MB);
  };
  read();
  const timer = setInterval(read, 1000);
  return {
    stop() {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}

interface RestartRun {
  /** SIGTERM until the process exited. */
  toExit: number;
  /** Start of the new process until JetStream answers. */
  toJetStream: number;
  /** Start of the new process until the gateway's /readyz answers 200. */
  toReady: number;
  /** nats-server's RSS once the gateway is ready, MB. */
  rssAfter: number;
}

/**
 * SIGTERM to nats-server, then the same binary on the same store and port; times until
 * JetStream answers and until the gateway's /readyz answers 200 (the services reconnect by
 * themselves), then checks a job of the run reads back.
 */
async function restartNats(sys: OurSystem, client: HttpClient, ids: readonly string[]): Promise<RestartRun> {
  const t0 = now();
  await sys.nats.stop("SIGTERM");
  const exited = now();
  let jetStreamAt = 0;
  const restarted = sys.nats.restart().then(() => (jetStreamAt = now()));
  await waitUntil(
    () =>
      client.request("GET", "/readyz").then(
        (r) => r.status === 200,
        () => false,
      ),
    600_000,
    () => "the gateway's /readyz never answered 200 after the restart",
    20,
  );
  const readyAt = now();
  await restarted;
  const res = await client.request("GET", `/job/${ids[0]!}`);
  if (res.status !== 200) throw new Error(`GET /job/${ids[0]} answered ${res.status} after the restart: ${res.body.slice(0, 300)}`);
  return { toExit: (exited - t0) / 1000, toJetStream: (jetStreamAt - exited) / 1000, toReady: (readyAt - exited) / 1000, rssAfter: rssBytes(sys.nats.pid()!) / MB };
}

/**
 * `pnpm projector:rebuild` as that script runs it (`node
 * services/projector/src/rebuild-main.ts`), with the services' environment, while the
 * live projector runs; its wall time and its highest resident size.
 */
async function runRebuild(sys: OurSystem): Promise<RebuildRun> {
  const child = spawn(process.execPath, [join(ROOT, "services/projector/src/rebuild-main.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...sys.serviceEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const t0 = now();
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(child.pid!) / MB)), 250);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearInterval(timer);
  const seconds = (now() - t0) / 1000;
  if (code !== 0) throw new Error(`pnpm projector:rebuild exited with ${code}:\n${out.slice(-3000)}`);
  const summary = new Map<string, string>();
  for (const line of out.split("\n")) {
    const m = /^ {2}(\S.*?)\s{2,}(\S.*)$/.exec(line);
    if (m) summary.set(m[1]!.trim(), m[2]!.trim());
  }
  return { seconds, peakRssMb: peak, summary };
}

function loadRows(
  o: { batchSize: number; inFlight: number },
  first: number,
  rest: number,
  acceptSeconds: number,
  doneSeconds: number,
  count: { accepted: number; resent: number; stored: number },
  d: Durability,
): Row[] {
  const scenario = `6 scale: load, ${rest} jobs after the first ${first} (POST /job/batch ${o.batchSize}/request, ${o.inFlight} in flight)`;
  return [
    { scenario, metric: "jobs accepted (202), whole run", ...oursAt(d, [count.accepted]) },
    { scenario, metric: "batch items answered 503 and sent again, whole run", ...oursAt(d, [count.resent]) },
    {
      scenario,
      metric: "jobs stored though answered 503 (views - accepted)",
      ...oursAt(d, [count.stored - count.accepted]),
      target: { text: "0", met: (v) => v === 0 } satisfies Target,
    },
    { scenario, metric: "jobs/s accepted (202s)", ...oursAt(d, [rest / acceptSeconds]) },
    { scenario, metric: "jobs/s, first request to all run and folded", ...oursAt(d, [rest / doneSeconds]) },
    { scenario, metric: "minutes, first request to all run and folded", ...oursAt(d, [doneSeconds / 60]), decimals: 1 },
  ];
}

function storeRows(
  jobs: number,
  first: number,
  stored: number,
  store: Map<number, StoreReading>,
  peakRss: number,
  rssAfterRestart: number,
  rssAfterRebuild: number,
  d: Durability,
): Row[] {
  const scenario = `6 scale: nats-server with ${jobs} jobs stored`;
  const [start, warm, end] = [store.get(0)!, store.get(first)!, store.get(jobs)!];
  const perMillion = 1_000_000 / stored;
  const subjects = (s: StoreReading) => Object.values(s.streams).reduce((a, b) => a + b.subjects, 0);
  const rows: Row[] = [
    { scenario, metric: "RSS MB before any job", ...oursAt(d, [start.rss]) },
    { scenario, metric: `RSS MB after ${first} jobs`, ...oursAt(d, [warm.rss]) },
    { scenario, metric: `RSS MB after ${jobs} jobs (all done and folded)`, ...oursAt(d, [end.rss]) },
    { scenario, metric: "RSS MB, highest during the load", ...oursAt(d, [peakRss]) },
    { scenario, metric: "RSS MB after a restart on the store", ...oursAt(d, [rssAfterRestart]) },
    { scenario, metric: "RSS MB after projector:rebuild read the stream", ...oursAt(d, [rssAfterRebuild]) },
    {
      scenario,
      metric: "RSS MB per million jobs stored ((end - before) / jobs stored)",
      ...oursAt(d, [(end.rss - start.rss) * perMillion]),
      target: { text: "<= 1024 MB", met: (v) => v <= 1024 } satisfies Target,
    },
    { scenario, metric: "RSS MB per million jobs after a restart ((restart - before) / jobs stored)", ...oursAt(d, [(rssAfterRestart - start.rss) * perMillion]) },
    { scenario, metric: "RSS bytes per stored subject ((end - before) / new subjects)", ...oursAt(d, [((end.rss - start.rss) * MB) / Math.max(1, subjects(end) - subjects(start))]) },
    { scenario, metric: "store on disk MB", ...oursAt(d, [end.disk]) },
    { scenario, metric: "store on disk MB per million jobs", ...oursAt(d, [(end.disk - start.disk) * perMillion]) },
  ];
  for (const [name, s] of Object.entries(end.streams).sort()) {
    if (s.messages === 0) continue;
    rows.push(
      { scenario, metric: `stream ${name}: messages`, ...oursAt(d, [s.messages]) },
      { scenario, metric: `stream ${name}: subjects`, ...oursAt(d, [s.subjects]) },
      { scenario, metric: `stream ${name}: MB of messages`, ...oursAt(d, [s.bytes / MB]) },
    );
  }
  return rows;
}

function heapRows(jobs: number, checkpoints: readonly number[], memory: Map<number, Map<string, MemoryReading>>, d: Durability): Row[] {
  const scenario = `6 scale: services' memory over ${jobs} jobs`;
  const [, warm, last] = checkpoints as [number, number, number];
  const rows: Row[] = [];
  for (const name of memory.get(0)!.keys()) {
    if (memory.get(0)!.get(name)!.liveHeap === undefined) continue; // nats-server: above
    for (const c of checkpoints) rows.push({ scenario, metric: `live heap MB after ${c} jobs, ${name}`, ...oursAt(d, [memory.get(c)!.get(name)!.liveHeap!]), decimals: 1 });
    rows.push({ scenario, metric: `RSS MB after ${last} jobs, ${name}`, ...oursAt(d, [memory.get(last)!.get(name)!.rss]) });
    rows.push({
      scenario,
      metric: `live heap growth ${warm} -> ${last} jobs, ${name}`,
      ...oursAt(d, [memory.get(last)!.get(name)!.liveHeap! / memory.get(warm)!.get(name)!.liveHeap!]),
      decimals: 2,
      target: { text: `flat (<= ${FLAT}x)`, met: (v) => v <= FLAT },
    });
  }
  return rows;
}

function restartRows(jobs: number, r: RestartRun | NotAvailable, d: Durability): Row[] {
  const scenario = `6 scale: nats-server restart with ${jobs} jobs stored`;
  const v = (pick: (r: RestartRun) => number) => ("na" in r ? r : [pick(r)]);
  return [
    { scenario, metric: "s, SIGTERM to exited", ...oursAt(d, v((x) => x.toExit)), decimals: 2 },
    { scenario, metric: "s, start to JetStream answering", ...oursAt(d, v((x) => x.toJetStream)), decimals: 2 },
    { scenario, metric: "s, start to the gateway's /readyz 200", ...oursAt(d, v((x) => x.toReady)), decimals: 2 },
  ];
}

function rebuildRows(jobs: number, r: RebuildRun | NotAvailable, d: Durability): Row[] {
  const scenario = `6 scale: pnpm projector:rebuild with ${jobs} jobs stored`;
  const v = (pick: (r: RebuildRun) => number) => ("na" in r ? r : [pick(r)]);
  const count = (run: RebuildRun, key: string) => Number(/^\d+/.exec(run.summary.get(key) ?? "")?.[0] ?? Number.NaN);
  return [
    { scenario, metric: "s, wall time of the process", ...oursAt(d, v((x) => x.seconds)), decimals: 1 },
    { scenario, metric: "events read", ...oursAt(d, v((x) => count(x, "events read"))) },
    { scenario, metric: "views written", ...oursAt(d, v((x) => count(x, "views written"))) },
    { scenario, metric: "RSS MB of the rebuild, highest", ...oursAt(d, v((x) => x.peakRssMb)) },
  ];
}
