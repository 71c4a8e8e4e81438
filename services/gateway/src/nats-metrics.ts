import type { JobNames } from "@jobs/core";
import { jetstream, jetstreamManager, type NatsConnection } from "@jobs/nats";
import type { Logger } from "@jobs/service";
import { cachedReading } from "./cached-reading.ts";
import { GatewayMetrics } from "./gateway-metrics.ts";
import { JobEventMetrics } from "./job-event-metrics.ts";
import { followStoredEvents, requestedTypeLookup } from "./nats-job-event-feed.ts";

export interface NatsMetricsOptions {
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  /** Stops following the stream. */
  signal: AbortSignal;
  /** Whether the NATS connection is up now: a scrape during an outage answers NaN at once instead of waiting. */
  connected: () => boolean;
  /** How long one jobs_waiting reading is reused (default 1 s). */
  waitingCacheMs?: number;
}

/**
 * The gateway's metrics fed from NATS: the job events stored in the stream (followed
 * from now on, see followStoredEvents) and the runners' backlog, read from their
 * consumer's info at scrape time with a 1 s timeout and cached for a second.
 */
export async function natsGatewayMetrics(o: NatsMetricsOptions): Promise<GatewayMetrics> {
  const { nc, names, log } = o;
  const jsm = await jetstreamManager(nc, { timeout: 1_000 });
  const waitingJobs = cachedReading(
    async () => {
      if (!o.connected()) throw new Error("not connected to NATS");
      const info = await jsm.consumers.info(names.stream, names.runnerConsumer);
      return info.num_pending + info.num_ack_pending;
    },
    { ttlMs: o.waitingCacheMs ?? 1_000, onError: (err) => log.warn({ err }, "metrics: the runners' consumer did not answer; jobs_waiting is NaN") },
  );
  const metrics = new GatewayMetrics({ processMetrics: true, waitingJobs });

  const jobEvents = new JobEventMetrics(metrics, {
    lookupType: requestedTypeLookup(jsm, names),
    onLookupError: (err, jobId) => log.debug({ err, jobId }, "metrics: job type lookup failed; counted as unknown"),
  });
  void followStoredEvents({
    js: jetstream(nc),
    names,
    signal: o.signal,
    onEvent: (event) => jobEvents.observe(event),
    onError: (err) => log.warn({ err }, "metrics: following the event stream failed; resuming"),
  });
  return metrics;
}
