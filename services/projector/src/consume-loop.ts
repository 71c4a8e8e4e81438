import type { JobNames } from "@jobs/core";
import { ensureProjectorConsumer, isNotFound, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg, type NatsConnection } from "@jobs/nats";
import { sleep, type Logger } from "@jobs/service";

export interface ConsumeLoopOptions {
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  signal: AbortSignal;
  /** Messages one pull asks for: large, so a burst arrives in big batches. */
  maxMessages: number;
  onMessage(msg: JsMsg): void;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

/**
 * Pulls from the projector's durable consumer until `signal` aborts. Whatever ends an
 * iteration (missed heartbeats, the consumer deleted, JetStream away, a rejected
 * promise) is logged, then the consumer is re-created after a growing pause; nothing
 * here throws.
 */
export async function consumeUntilAborted(opts: ConsumeLoopOptions): Promise<void> {
  const { names, log, signal } = opts;
  let backoffMs = MIN_BACKOFF_MS;
  let recreateConsumer = false;
  const js = jetstream(opts.nc);
  while (!signal.aborted) {
    let messages: ConsumerMessages | undefined;
    const stop = () => messages?.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      if (recreateConsumer) await ensureProjectorConsumer(await jetstreamManager(opts.nc), names);
      recreateConsumer = false;
      const consumer = await js.consumers.get(names.stream, names.projectorConsumer);
      messages = await consumer.consume({ max_messages: opts.maxMessages });
      if (signal.aborted) messages.stop();
      void watchStatus(messages, log, () => (recreateConsumer = true));
      log.info({ consumer: names.projectorConsumer }, "consuming events");
      for await (const msg of messages) {
        backoffMs = MIN_BACKOFF_MS;
        opts.onMessage(msg);
      }
    } catch (err) {
      if (!signal.aborted) log.warn({ err }, "projector consumer failed");
      if (isNotFound(err)) recreateConsumer = true;
    } finally {
      signal.removeEventListener("abort", stop);
    }
    if (signal.aborted) break;
    if (opts.nc.isClosed()) {
      log.error("NATS connection closed for good; projector stops consuming");
      break;
    }
    log.warn({ backoffMs }, "projector consumer stopped; re-creating it");
    await sleep(backoffMs, signal);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  }
}

/** Logs what the consumer reports; missed heartbeats or a vanished consumer end the iteration so the loop re-creates it. */
async function watchStatus(messages: ConsumerMessages, log: Logger, onMissing: () => void): Promise<void> {
  try {
    for await (const s of messages.status()) {
      switch (s.type) {
        case "heartbeats_missed":
          log.warn({ count: s.count }, "projector consumer missed heartbeats");
          messages.stop();
          break;
        case "consumer_deleted":
        case "consumer_not_found":
        case "stream_not_found":
          log.error({ status: s.type }, "projector consumer or stream is gone");
          onMissing();
          messages.stop();
          break;
        case "exceeded_limits":
          log.warn({ status: s }, "projector pull exceeded a server limit");
          break;
        default:
          break;
      }
    }
  } catch (err) {
    log.debug({ err }, "consumer status iterator ended");
  }
}
