import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "bullmq";
import { baselineSettings, redisConnection } from "./settings.ts";

/**
 * The BullMQ baseline's worker process: runs `sleep` jobs exactly as our runner's
 * `sleep` type does (`ms` 0 returns at once), `CONCURRENCY` at a time, with BullMQ's
 * defaults otherwise (completed jobs are kept).
 */
const settings = baselineSettings();
const worker = new Worker(
  settings.queueName,
  async (job) => {
    const ms = (job.data as { params?: { ms?: number } }).params?.ms ?? 0;
    if (ms > 0) await delay(ms);
    return { ms };
  },
  { connection: redisConnection(settings), concurrency: settings.concurrency },
);
worker.on("error", (err) => console.error("worker error", err));

const stop = async () => {
  await worker.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

await worker.waitUntilReady();
console.log("ready");
