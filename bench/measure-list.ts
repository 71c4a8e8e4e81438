/**
 * How fast GET /job answers with many jobs in the view (a measurement, not a test):
 *   node bench/measure-list.ts [jobs] [requests]
 * Fills a fresh nats-server with `jobs` requests (90% application "big", 10% "small";
 * every tenth one finished as failed), lets the real projector fold them and keep the
 * listing index, then times listings through the gateway wired as in production.
 */
import { jobNames, newJobId, type JobEvent } from "@jobs/core";
import { connectNats, ensureProjectorConsumer, ensureStream, EventLog, IndexStore, jetstream, jetstreamManager, openIndexBucket, openViewBucket, ViewStore } from "@jobs/nats";
import { createLogger, sleep } from "@jobs/service";
import { buildApp } from "../services/gateway/src/app.ts";
import { natsAppDeps } from "../services/gateway/src/nats/deps.ts";
import { startProjector } from "../services/projector/src/index.ts";
import { startNatsServer } from "../test/support/nats-server.ts";

const jobs = Number(process.argv[2] ?? 100_000);
const requests = Number(process.argv[3] ?? 500);
const server = await startNatsServer();
const log = createLogger("measure-list", "warn");
const names = jobNames("measure");
const nc = await connectNats({ servers: server.url, name: "measure-list", log });
const controller = new AbortController();
try {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names);
  await ensureProjectorConsumer(jsm, names);
  const events = new EventLog(jetstream(nc), jsm, names);
  const time = new Date().toISOString();
  const t0 = Date.now();
  for (let i = 0; i < jobs; i += 2000) {
    await Promise.all(
      Array.from({ length: Math.min(2000, jobs - i) }, async (_, k) => {
        const n = i + k;
        const id = newJobId();
        const data = { app: n % 10 === 9 ? "small" : "big", jobType: n % 4 === 0 ? "sleep" : "sum", params: { a: n, b: 2 }, meta: { n }, maxAttempts: 3, timeoutMs: 1000, runAt: null };
        await events.append({ type: "JobRequested", jobId: id, time, data } as JobEvent, `${id}:r`);
        if (n % 10 === 3) await events.append({ type: "JobFinished", jobId: id, time, data: { attempt: 0, outcome: "failed", error: { code: "x", message: "x" } } }, `${id}:f`);
      }),
    );
  }
  const total = (await jsm.streams.info(names.stream)).state.messages;
  console.log(`published ${total} events of ${jobs} jobs in ${Date.now() - t0} ms`);

  const t1 = Date.now();
  const index = new IndexStore(await openIndexBucket(nc, names), names);
  const projector = startProjector({ nc, names, views: new ViewStore(await openViewBucket(nc, names)), index, history: events, log });
  for (;;) {
    const info = await jsm.consumers.info(names.stream, names.projectorConsumer);
    if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= total) break;
    await sleep(100);
  }
  console.log(`projector folded and indexed them in ${Date.now() - t1} ms (${Math.round((total / (Date.now() - t1)) * 1000)} events/s), index ${JSON.stringify(projector.indexStats)}`);
  await projector.stop();

  const deps = await natsAppDeps({ nc, names, log, signal: controller.signal, idempotencyTtlMs: 60_000 });
  const app = buildApp({ ...deps, tokens: new Map([["big", "big"], ["small", "small"]]) });
  await app.ready();
  const get = async (url: string, token: string) => {
    const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json() as { items: unknown[]; next: string | null };
  };
  // A cursor deep into the listing: follow `next` of limit=500 pages a while.
  let deep: string | null = null;
  for (let i = 0; i < Math.floor(jobs / 1000); i++) deep = (await get(`/job?limit=500${deep ? `&cursor=${deep}` : ""}`, "big")).next ?? deep;

  const cases: [string, string, string][] = [
    ["newest 50", "/job?limit=50", "big"],
    ["newest 50, small app", "/job?limit=50", "small"],
    ["50 from deep cursor", `/job?limit=50&cursor=${deep}`, "big"],
    ["newest 500", "/job?limit=500", "big"],
    ["status=failed, 50", "/job?limit=50&status=failed", "big"],
    ["status=running (none)", "/job?limit=50&status=running", "big"],
  ];
  console.log(`\n${"GET /job".padEnd(24)} ${"items".padStart(6)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
  for (const [label, url, token] of cases) {
    const ms: number[] = [];
    let items = 0;
    for (let i = 0; i < 20; i++) await get(url, token); // warm-up
    for (let i = 0; i < requests; i++) {
      const start = performance.now();
      items = (await get(url, token)).items.length;
      ms.push(performance.now() - start);
    }
    ms.sort((a, b) => a - b);
    const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!.toFixed(2);
    console.log(`${label.padEnd(24)} ${String(items).padStart(6)} ${pct(50).padStart(8)} ${pct(99).padStart(8)}`);
  }
  console.log(`\nrss ${Math.round(process.memoryUsage().rss / 1e6)} MB (gateway, projector and publisher in one process)`);
  await app.close();
} finally {
  controller.abort();
  await nc.close();
  await server.dispose();
}
