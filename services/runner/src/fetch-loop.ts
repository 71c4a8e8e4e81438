import type { JetStreamClient } from "@jobs/nats";
import type { JobNames } from "@jobs/core";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";
import type { Consumer, JsMsg } from "./nats-types.ts";
import type { Slots } from "./slots.ts";
import { FetchedAhead, type FetchAheadOptions } from "./fetched-ahead.ts";

/**
 * Pulls from the shared durable consumer only what the runner can start now, plus, while
 * its jobs are short, up to `ahead.limit` more that start as slots free (see
 * fetched-ahead.ts). Fetch errors (missed heartbeats, NATS away, consumer gone) are
 * logged, backed off and answered by getting the consumer again; this loop never
 * rejects. After `stopping` aborts, the fetch in flight is allowed to expire and
 * whatever it still brings, or still waits for a slot, is handed back at once with a
 * nak (closing it early could strand a message for ack_wait).
 */
export async function fetchLoop(opts: {
  js: JetStreamClient;
  names: JobNames;
  slots: Slots;
  log: Logger;
  expiresMs: number;
  stopping: AbortSignal;
  ahead: FetchAheadOptions;
  onMessage: (msg: JsMsg) => void;
}): Promise<void> {
  const { js, names, slots, log, stopping } = opts;
  const fetched = new FetchedAhead(slots, opts.onMessage, { ...opts.ahead, log });
  const staleCheck = setInterval(() => fetched.handBackStale(), Math.max(50, opts.ahead.maxWaitMs / 4));
  // A stopping runner starts nothing more: what waits goes back at once.
  stopping.addEventListener("abort", () => fetched.handBackAll(), { once: true });
  let consumer: Consumer | null = null;
  let backoff = 250;
  try {
    while (!stopping.aborted) {
      await slots.waitFor(() => fetched.room() > 0, stopping);
      if (stopping.aborted) break;
      try {
        consumer ??= await js.consumers.get(names.stream, names.runnerConsumer);
        const batch = await consumer.fetch({ max_messages: fetched.room(), expires: opts.expiresMs });
        for await (const msg of batch) {
          if (stopping.aborted) msg.nak();
          else fetched.add(msg);
        }
        backoff = 250;
      } catch (err) {
        log.warn({ err, retryInMs: backoff }, "fetching jobs failed; getting the consumer again");
        consumer = null;
        await sleep(backoff, stopping);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  } finally {
    clearInterval(staleCheck);
    fetched.handBackAll();
  }
}
