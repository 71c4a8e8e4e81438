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
 * Watches the hand-backs of the runners' consumers (the event stream's requests and the
 * dispatch stream's ready queues) through the server's nak advisories, each naming the
 * message (its stream sequence) and how often it has been delivered. A job handed back at
 * once over and over is delivered again thousands of times a second, and shows here as a
 * message delivered again and again, however fast or slow the machine is.
 */
export function watchHandBacks(nc: NatsConnection, names: JobNames): HandBacks {
  const deliveries = new Map<string, number>();
  const subs = [names.stream, names.dispatchStream].map((stream) =>
    nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${stream}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const advisory = msg.json<NakAdvisory>();
        const key = `${stream}:${advisory.stream_seq}`;
        deliveries.set(key, Math.max(deliveries.get(key) ?? 0, advisory.deliveries));
      },
    }),
  );
  return {
    deliveriesOf: (streamSeq) => deliveries.get(`${names.stream}:${streamSeq}`) ?? 0,
    mostDeliveries: () => Math.max(0, ...deliveries.values()),
    stop: () => subs.forEach((s) => s.unsubscribe()),
  };
}
