import type { JetStreamClient } from "@jobs/nats";
import type { JobNames } from "@jobs/core";
import type { Logger } from "pino";
import { pause } from "./backoff.ts";
import type { Consumer, JsMsg } from "./nats-types.ts";
import type { Slots } from "./slots.ts";

/**
 * Pulls from the shared durable consumer only what the free slots can run now
 * (`fetch` with max_messages = free slots), starting each message as it arrives. Fetch
 * errors (missed heartbeats, NATS away, consumer gone) are logged, backed off and
 * answered by getting the consumer again; this loop never rejects. After `stopping`
 * aborts, the fetch in flight is allowed to expire and whatever it still brings is
 * handed back at once with a nak (closing it early could strand a message for ack_wait).
 */
export async function fetchLoop(opts: {
  js: JetStreamClient;
  names: JobNames;
  slots: Slots;
  log: Logger;
  expiresMs: number;
  stopping: AbortSignal;
  onMessage: (msg: JsMsg) => void;
}): Promise<void> {
  const { js, names, slots, log, stopping } = opts;
  let consumer: Consumer | null = null;
  let backoff = 250;
  while (!stopping.aborted) {
    await slots.waitFree(stopping);
    if (stopping.aborted) break;
    try {
      consumer ??= await js.consumers.get(names.stream, names.runnerConsumer);
      const batch = await consumer.fetch({ max_messages: slots.free, expires: opts.expiresMs });
      for await (const msg of batch) {
        if (stopping.aborted) msg.nak();
        else opts.onMessage(msg);
      }
      backoff = 250;
    } catch (err) {
      log.warn({ err, retryInMs: backoff }, "fetching jobs failed; getting the consumer again");
      consumer = null;
      await pause(backoff, stopping);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}
