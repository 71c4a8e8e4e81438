import type { JsMsg, NatsConnection } from "@jobs/nats";
import { encodeMetricsDelta, JobMetricsTally, type JobNames } from "@jobs/core";
import type { Logger } from "@jobs/service";
import { consumeUntilAborted } from "./consume-loop.ts";
import { flushBatch, type FlushDeps, type FlushStats } from "./flush.ts";
import { FlushBuffer } from "./flush-buffer.ts";
import { IndexWriter, type IndexWriterStats } from "./index-writer.ts";
import type { HistoryPort, IndexPort, ViewPort } from "./ports.ts";
import { ViewCache } from "./view-cache.ts";

export interface ProjectorOptions {
  /** Messages one pull asks for. */
  maxMessages: number;
  /** Jobs whose last view is kept in memory. */
  cacheSize: number;
  /** KV writes in flight at once within a flush. */
  writeConcurrency: number;
  /** Delay before an event whose write failed comes back. */
  nakDelayMs: number;
  /** Longest an event waits in the buffer before a flush (see FLUSH_DELAY_MS). */
  flushDelayMs: number;
  /** A buffer this full is flushed without waiting for the delay. */
  flushMaxMessages: number;
}

/**
 * How long the first event in an empty buffer waits for others before a flush. A short
 * job's JobRequested, JobStarted and JobFinished arrive within a few milliseconds of each
 * other: flushed on the next turn of the event loop they would land in different flushes,
 * one view write each; waiting this long lets one flush fold them into one write. Short
 * enough that a view lags its events by no more than a few milliseconds when idle.
 */
export const FLUSH_DELAY_MS = 5;

export const DEFAULT_PROJECTOR_OPTIONS: ProjectorOptions = {
  maxMessages: 1000,
  cacheSize: 20_000,
  writeConcurrency: 256,
  nakDelayMs: 1000,
  flushDelayMs: FLUSH_DELAY_MS,
  flushMaxMessages: 500,
};

export interface ProjectorDeps {
  nc: NatsConnection;
  names: JobNames;
  /** The view bucket (a ViewStore). */
  views: ViewPort;
  /** The stream, read back for a job whose events arrived out of order or whose view is not trusted (an EventLog). */
  history: HistoryPort;
  /** The listing index bucket (an IndexStore). */
  index: IndexPort;
  log: Logger;
  options?: Partial<ProjectorOptions>;
}

export interface ProjectorTotals extends FlushStats {
  flushes: number;
}

export interface Projector {
  /** Running totals since start. */
  readonly totals: Readonly<ProjectorTotals>;
  /** Index keys written and revision conflicts met since start. */
  readonly indexStats: Readonly<IndexWriterStats>;
  /** Stops pulling, folds what was already received, settles every message; resolves when done. */
  stop(): Promise<void>;
}

/**
 * The live projector: folds every event of the stream into the view bucket, and keeps
 * each application's listing index (the index bucket) in step. Messages are buffered as
 * they arrive and flushed one flush at a time (flush-buffer.ts): a job's events that
 * arrive close together share a flush (one KV write per job, not per event), and under
 * load a flush holds everything that arrived during the previous one. After each flush
 * it publishes what its view writes added to the job counts (names.metricsSubject),
 * which the gateways serve at /metrics.
 */
export function startProjector(deps: ProjectorDeps): Projector {
  const options = { ...DEFAULT_PROJECTOR_OPTIONS, ...deps.options };
  const { log } = deps;
  const controller = new AbortController();
  const index = new IndexWriter(deps.index);
  const tally = new JobMetricsTally();
  const flushDeps: FlushDeps = {
    ...options,
    views: deps.views,
    history: deps.history,
    index,
    cache: new ViewCache(options.cacheSize),
    log,
    onWritten: (base, view) => tally.count(base, view),
  };
  const totals: ProjectorTotals = { flushes: 0, messages: 0, jobs: 0, written: 0, unchanged: 0, resynced: 0, untrusted: 0, poison: 0, handedBack: 0 };
  const buffer = new FlushBuffer<JsMsg>(options, async (batch) => {
    try {
      const stats = await flushBatch(batch, flushDeps);
      publishMetrics(deps, tally);
      totals.flushes++;
      for (const key of Object.keys(stats) as (keyof FlushStats)[]) totals[key] += stats[key];
    } catch (err) {
      // flushBatch settles every message itself; this is a bug guard. Unsettled messages come back after ack_wait.
      log.error({ err, messages: batch.length }, "flush failed");
    }
  });
  const { nc, names } = deps;
  const consuming = consumeUntilAborted({ nc, names, log, signal: controller.signal, maxMessages: options.maxMessages, onMessage: (msg) => buffer.push(msg) }).catch(
    (err: unknown) => log.error({ err }, "projector stopped consuming"),
  );
  return {
    totals,
    indexStats: index.stats,
    async stop() {
      controller.abort();
      await consuming;
      await buffer.drain(); // what waits for its delay is flushed now
      log.info({ totals, index: index.stats }, "projector stopped");
    },
  };
}

/**
 * Publishes what the flush's view writes added to the job counts, once the views hold
 * the events. Fire and forget: a gateway that misses one (it was disconnected)
 * under-counts, and nothing else depends on it.
 */
function publishMetrics(deps: ProjectorDeps, tally: JobMetricsTally): void {
  const delta = tally.take();
  if (delta === null) return;
  try {
    deps.nc.publish(deps.names.metricsSubject, encodeMetricsDelta(delta));
  } catch (err) {
    deps.log.debug({ err }, "job metrics not published");
  }
}
