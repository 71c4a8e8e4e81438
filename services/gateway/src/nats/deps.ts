import type { JobNames } from "@jobs/core";
import {
  ensureStream,
  EventLog,
  IndexStore,
  isNotFound,
  jetstream,
  jetstreamManager,
  JobTypeCatalog,
  openIdempotencyBucket,
  openIndexBucket,
  openTypesBucket,
  openViewBucket,
  ViewStore,
  type KV,
  type NatsConnection,
} from "@jobs/nats";
import type { Logger } from "@jobs/service";
import type { AppDeps } from "../app.ts";
import { trackConnection } from "./connection-state.ts";
import { NatsIdempotencyStore } from "./idempotency-store.ts";
import { NatsJobStore } from "./job-store.ts";
import { natsGatewayMetrics } from "./metrics.ts";
import { NatsReadiness } from "./readiness.ts";

export interface NatsDepsOptions {
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  /** Stops following the job types bucket and, for the metrics, the event stream. */
  signal: AbortSignal;
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlMs: number;
  /** Replicas of the stream and the buckets (JOBS_REPLICAS); left out, existing ones stay as they are and new ones get 1. */
  replicas?: number;
  /** How long a POST waits for JetStream's publish ack before sending it again (default 5 s). */
  appendTimeoutMs?: number;
  /** How many times a POST sends its unanswered publish before it answers 503 (default 3). */
  appendTries?: number;
  /** How long one /readyz answer is reused (default 1 s). */
  readinessCacheMs?: number;
}

/**
 * The gateway's ports on NATS: provisions what the gateway needs (stream, buckets) and
 * builds the adapters. main.ts and the integration tests wire the app with this same
 * function, so the tests run the wiring that runs in production.
 */
export async function natsAppDeps(o: NatsDepsOptions): Promise<Omit<AppDeps, "tokens" | "logger">> {
  const { nc, names, log } = o;
  const replicas = { replicas: o.replicas };
  const connected = trackConnection(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names, replicas);
  const views = new ViewStore(await openViewBucket(nc, names, replicas));
  const index = new IndexStore(await openIndexBucket(nc, names, replicas), names);
  const claims = await openIdempotencyBucket(nc, names, { ttlMs: o.idempotencyTtlMs, ...replicas });
  const types = new JobTypeCatalog(log);
  await types.follow(await openTypesBucket(nc, names, replicas), o.signal);

  // Readiness gets its own short timeout so /readyz answers quickly during an outage.
  const probeJsm = await jetstreamManager(nc, { timeout: 2_000 });
  return {
    jobs: new NatsJobStore({
      log: new EventLog(jetstream(nc), jsm, names),
      views,
      index,
      connected,
      appendTimeoutMs: o.appendTimeoutMs,
      appendTries: o.appendTries,
      onWatchError: (err, jobId) => log.warn({ err, jobId }, "job view watch failed; re-creating it"),
    }),
    idempotency: new NatsIdempotencyStore({
      kv: claims,
      connected,
      // Operational state, not history: when the bucket is gone, make it again rather than refuse every keyed request.
      reopenIfGone: async (kv) => {
        if (await bucketExists(kv)) return null;
        log.warn({ bucket: names.idempotencyBucket }, "the Idempotency-Key bucket is gone; creating it again (keys claimed before are forgotten)");
        return openIdempotencyBucket(nc, names, { ttlMs: o.idempotencyTtlMs, ...replicas });
      },
    }),
    types,
    metrics: await natsGatewayMetrics({ nc, names, log, signal: o.signal, connected }),
    readiness: new NatsReadiness({
      connected,
      probeStream: () => probeJsm.streams.info(names.stream),
      cacheMs: o.readinessCacheMs,
      onProbeError: (err) => log.warn({ err }, "readiness: stream did not answer"),
    }),
  };
}

/** False only when the server says the bucket's stream does not exist (an outage is not an answer). */
async function bucketExists(kv: KV): Promise<boolean> {
  try {
    await kv.status();
    return true;
  } catch (err) {
    return !isNotFound(err);
  }
}
