import { createRequire } from "node:module";
import { Queue, QueueEvents } from "bullmq";
import { freePort } from "../../test/support/nats-server.ts";
import { now, waitUntil } from "./clock.ts";
import { DURABILITY, type Durability } from "./durability.ts";
import { startNodeProcess, type NodeProcess } from "./node-process.ts";
import { startRedis } from "./redis-server.ts";
import type { CompletionWatch, SystemUnderTest } from "./system.ts";

const QUEUE_NAME = "bench";
const TOKEN = "bench-token";

/**
 * Why the baseline cannot run here, or null when it can. BullMQ loads its Redis driver
 * (ioredis, an optional peer dependency) itself, from where bullmq is installed.
 */
export function baselineUnavailable(): string | null {
  try {
    const fromBench = createRequire(import.meta.url);
    createRequire(fromBench.resolve("bullmq")).resolve("ioredis");
    return null;
  } catch {
    return "BullMQ cannot load ioredis (its optional peer dependency): add ioredis to bench/package.json";
  }
}

/**
 * The baseline deployment: redis-server (append-only file, fsynced as `durability`
 * says), the baseline gateway and `workers` BullMQ worker processes. Completions are
 * BullMQ's own QueueEvents `completed`, heard in the bench process.
 */
export async function startBullmqSystem(opts: { workers: number; concurrency: number; durability: Durability }): Promise<SystemUnderTest> {
  const redis = await startRedis({ appendfsync: DURABILITY[opts.durability].redisAppendfsync });
  const processes: NodeProcess[] = [];
  let queue: Queue | undefined;
  const stopAll = async () => {
    await queue?.close().catch(() => undefined);
    await Promise.all(processes.map((p) => p.stop()));
    await redis.stop();
  };
  try {
    const port = await freePort();
    const env = { REDIS_PORT: String(redis.port), QUEUE_NAME, PORT: String(port), API_TOKEN: TOKEN, CONCURRENCY: String(opts.concurrency) };
    processes.push(await startNodeProcess("bullmq/gateway.ts", env));
    for (let i = 0; i < opts.workers; i++) processes.push(await startNodeProcess("bullmq/worker.ts", env));
    const connection = { host: "127.0.0.1", port: redis.port };
    const q = new Queue(QUEUE_NAME, { connection });
    queue = q;
    await q.waitUntilReady();
    return {
      name: "bullmq",
      durability: opts.durability,
      baseUrl: `http://127.0.0.1:${port}`,
      token: TOKEN,
      batch: true,
      processes: () => [
        { role: "store", name: "redis-server", pid: redis.pid },
        ...processes.map((p, i) => (i === 0 ? { role: "gateway" as const, name: "gateway", pid: p.pid } : { role: "runner" as const, name: `worker ${i}`, pid: p.pid })),
      ],
      watchSucceeded: (onSucceeded) => watchCompleted(connection, onSucceeded),
      async waitIdle(timeoutMs = 600_000) {
        let counts: Record<string, number> = {};
        await waitUntil(
          async () => {
            counts = await q.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
            return Object.values(counts).every((n) => n === 0);
          },
          timeoutMs,
          () => `BullMQ still busy: ${JSON.stringify(counts)}`,
          250,
        );
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function watchCompleted(connection: { host: string; port: number }, onSucceeded: (id: string, at: number) => void): Promise<CompletionWatch> {
  // Events from this moment on: stream ids are millisecond times, so this skips earlier runs' events.
  const events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: `${Date.now() - 1}-0` });
  events.on("completed", ({ jobId }) => onSucceeded(jobId, now()));
  await events.waitUntilReady();
  return { stop: () => events.close() };
}
