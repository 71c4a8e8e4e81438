/**
 * How the projector's rebuild copes with a large stream (a measurement, not a test):
 *   node bench/measure-rebuild.ts [jobs]
 * Publishes two events per job into a fresh nats-server, then rebuilds the view twice:
 * into an empty bucket, then over its own result (nothing to write).
 */
import { jobNames, newJobId, type JobEvent } from "@jobs/core";
import { connectNats, ensureStream, EventLog, jetstream, jetstreamManager, openViewBucket } from "@jobs/nats";
import { createLogger } from "@jobs/service";
import { rebuildView } from "../services/projector/src/index.ts";
import { startNatsServer } from "../test/support/nats-server.ts";
const jobs = Number(process.argv[2] ?? 100_000);
const server = await startNatsServer();
const log = createLogger("scale", "warn");
const names = jobNames("scale");
const nc = await connectNats({ servers: server.url, name: "scale", log });
try {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names);
  const kv = await openViewBucket(nc, names);
  const ev = new EventLog(jetstream(nc), jsm, names);
  const t0 = Date.now();
  const time = new Date().toISOString();
  for (let i = 0; i < jobs; i += 2000) {
    await Promise.all(Array.from({ length: Math.min(2000, jobs - i) }, async (_, k) => {
      const id = newJobId();
      const req: JobEvent = { type: "JobRequested", jobId: id, time, data: { app: "a", jobType: "sum", params: { a: i + k, b: 2 }, meta: { k, tag: "x".repeat(50) }, maxAttempts: 3, timeoutMs: 1000, runAt: null } };
      await ev.append(req, `${id}:r`);
      await ev.append({ type: "JobFinished", jobId: id, time, data: { attempt: 0, outcome: "cancelled", error: { code: "cancelled", message: "x" } } }, `${id}:f`);
    }));
  }
  console.log(`published ${2 * jobs} events in ${Date.now() - t0} ms`);
  const s1 = await rebuildView({ nc, names, kv, log });
  console.log("first rebuild", JSON.stringify(s1), `rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
  const s2 = await rebuildView({ nc, names, kv, log });
  console.log("second rebuild", JSON.stringify(s2), `rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
} finally {
  await nc.close();
  await server.dispose();
}
