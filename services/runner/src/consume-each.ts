import type { JetStreamClient } from "@jobs/nats";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";
import type { Consumer, JsMsg } from "./nats-types.ts";

/**
 * Pulls batches from one durable consumer and hands each message to `handle`, the batch's
 * messages at once; the next pull when they are all settled. For the runner's short
 * chores (routing requests, expiring jobs), which hold no job slot. `handle` acks or naks;
 * if it throws, the message is handed back after a second. Never rejects; stops pulling
 * when `stopping` aborts.
 */
export async function consumeEach(opts: {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  batch: number;
  expiresMs: number;
  stopping: AbortSignal;
  log: Logger;
  handle: (msg: JsMsg) => Promise<void>;
}): Promise<void> {
  const { js, stopping, log } = opts;
  let consumer: Consumer | null = null;
  let backoff = 250;
  while (!stopping.aborted) {
    try {
      consumer ??= await js.consumers.get(opts.stream, opts.consumer);
      const batch = await consumer.fetch({ max_messages: opts.batch, expires: opts.expiresMs });
      const work: Promise<void>[] = [];
      for await (const msg of batch) {
        work.push(
          opts.handle(msg).catch((err: unknown) => {
            log.warn({ err, subject: msg.subject }, "handling failed; handing the message back");
            msg.nak(1_000);
          }),
        );
      }
      await Promise.all(work);
      backoff = 250;
    } catch (err) {
      log.warn({ err, retryInMs: backoff }, "fetching failed; getting the consumer again");
      consumer = null;
      await sleep(backoff, stopping);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}
