import type { NatsConnection } from "@nats-io/transport-node";
import type { JobNames } from "@jobs/core";

/** The server's advisory for a message handed back (nak) on a consumer, with its delay or not. */
interface NakAdvisory {
  stream_seq: number;
  deliveries: number;
}

export interface HandBacks {
  /** How often the message at `streamSeq` had been delivered at its latest hand-back (0: never handed back). */
  deliveriesOf(streamSeq: number): number;
  /** The most deliveries any handed-back message had. */
  mostDeliveries(): number;
  stop(): void;
}

/**
 * Watches the hand-backs of the runners' shared consumer through the server's nak
 * advisories, each naming the message (its stream sequence) and how often it has been
 * delivered. Jobs waiting for a retry or their runAt are handed back now and then; a job
 * handed back at once over and over (a nak whose delay the server could not read) is
 * delivered again thousands of times a second, and shows here as a message delivered
 * again and again, however fast or slow the machine is.
 */
export function watchHandBacks(nc: NatsConnection, names: JobNames): HandBacks {
  const deliveries = new Map<number, number>();
  const sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${names.stream}.${names.runnerConsumer}`, {
    callback: (err, msg) => {
      if (err) return;
      const advisory = msg.json<NakAdvisory>();
      deliveries.set(advisory.stream_seq, Math.max(deliveries.get(advisory.stream_seq) ?? 0, advisory.deliveries));
    },
  });
  return {
    deliveriesOf: (streamSeq) => deliveries.get(streamSeq) ?? 0,
    mostDeliveries: () => Math.max(0, ...deliveries.values()),
    stop: () => sub.unsubscribe(),
  };
}
