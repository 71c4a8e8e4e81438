import { decodeMetricsDelta, PRIORITIES, type JobNames } from "@jobs/core";
import { isNotFound, jetstreamManager, type NatsConnection } from "@jobs/nats";
import type { Logger } from "@jobs/service";
import { cachedReading } from "./cached-reading.ts";
import { GatewayMetrics } from "../gateway-metrics.ts";

export interface NatsMetricsOptions {
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  /** Stops listening to the projectors' counts. */
  signal: AbortSignal;
  /** Whether the NATS connection is up now: a scrape during an outage answers NaN at once instead of waiting. */
  connected: () => boolean;
  /** How long one jobs_waiting reading is reused (default 1 s). */
  waitingCacheMs?: number;
}

/**
 * The gateway's metrics fed from NATS: the job counts the projectors publish after each
 * flush (names.metricsSubject; what they folded, by type: see JobMetricsDelta), and the
 * runners' backlog, read from their consumers' info at scrape time with a 1 s timeout
 * and cached for a second. The counts arrive on a core subscription, which the client
 * renews after a reconnect; what is published while this gateway is cut off is not
 * counted here.
 */
export async function natsGatewayMetrics(o: NatsMetricsOptions): Promise<GatewayMetrics> {
  const { nc, names, log } = o;
  const jsm = await jetstreamManager(nc, { timeout: 1_000 });
  const waitingJobs = cachedReading(
    async () => {
      if (!o.connected()) throw new Error("not connected to NATS");
      const backlog = async (stream: string, consumer: string) => {
        try {
          const info = await jsm.consumers.info(stream, consumer);
          return info.num_pending + info.num_ack_pending;
        } catch (err) {
          if (isNotFound(err)) return 0; // no runner has made it yet: nothing waits there
          throw err;
        }
      };
      const counts = await Promise.all([
        backlog(names.stream, names.runnerConsumer),
        ...PRIORITIES.map((p) => backlog(names.stream, names.routingConsumer(p))),
        ...PRIORITIES.map((p) => backlog(names.dispatchStream, names.readyConsumer(p))),
      ]);
      return counts.reduce((a, b) => a + b, 0);
    },
    { ttlMs: o.waitingCacheMs ?? 1_000, onError: (err) => log.warn({ err }, "metrics: the runners' consumer did not answer; jobs_waiting is NaN") },
  );
  const metrics = new GatewayMetrics({ processMetrics: true, waitingJobs });

  const counts = nc.subscribe(names.metricsSubject, {
    callback: (err, msg) => {
      if (err !== null) return log.warn({ err }, "metrics: the projectors' counts subscription failed");
      try {
        metrics.addFolded(decodeMetricsDelta(msg.data));
      } catch (decodeErr) {
        log.warn({ err: decodeErr, subject: msg.subject }, "metrics: a message on the counts subject is not a job metrics delta; ignored");
      }
    },
  });
  o.signal.addEventListener("abort", () => counts.unsubscribe(), { once: true });
  return metrics;
}
