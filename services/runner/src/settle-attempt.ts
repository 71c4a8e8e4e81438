import { decideAttemptEnd, invalidResult, type AttemptOutcome, type AttemptRef } from "@jobs/core";
import type { Logger } from "pino";
import { isPermanent } from "./durable-append.ts";
import type { JobWriter, SettleResult } from "./job-writer.ts";
import type { JsMsg } from "./nats-types.ts";

/**
 * Stores how an attempt ended (decideAttemptEnd says what), then acks or hands the
 * message back; a retry waits on the server (retryLater) rather than on the consumer. Never acks a job whose ending was not stored: if storing gives up
 * (shutdown while NATS is away), the message is nak'ed and the next runner sees the
 * attempt in the stream. When someone else ended the job meanwhile (cancel, outside
 * completion), nothing more is stored.
 */
export interface SettleDeps {
  writer: JobWriter;
  log: Logger;
  /** Makes attempt `next` wait on the server until its retry time (a one-shot schedule into the job's ready queue). */
  retryLater: (next: number, until: Date) => Promise<void>;
}

export async function settleAttempt(msg: JsMsg, ref: AttemptRef, outcome: AttemptOutcome, { writer, log, retryLater }: SettleDeps): Promise<void> {
  const decision = decideAttemptEnd(outcome, ref, new Date());
  switch (decision.kind) {
    case "drop":
      log.info("the job was ended elsewhere (cancelled) while running; attempt dropped");
      return ack(msg, log);
    case "end": {
      const { data } = decision.append.event;
      if (data.outcome === "failed") log.warn({ error: data.error }, "job failed");
      const result = await settleEnding(writer, decision.append, ref, outcome, log);
      return conclude(msg, result, log, data.outcome === "succeeded" ? "job succeeded" : "failure stored");
    }
    case "retry": {
      const result = await writer.settle(decision.append);
      if (result !== "stored") return conclude(msg, result, log, "");
      log.warn({ error: decision.append.event.data.error, retryInMs: decision.delayMs }, "attempt failed; will retry");
      // Not waiting on this consumer: acked once the server holds the retry. Should that
      // fail, the redelivery finds the failed attempt and makes the job wait (decideDelivery).
      await retryLater(ref.attempt + 1, new Date(decision.append.event.data.retryAt));
      return ack(msg, log);
    }
    case "interrupted":
      // Shutdown after the grace period: one quick try to record why, then hand the job back at once.
      log.warn("attempt interrupted by shutdown; handing the job back");
      await writer.tryOnce(decision.append);
      return msg.nak();
  }
}

/** The ending; a result the store refuses for good (over the payload limit) fails the job instead. */
async function settleEnding(writer: JobWriter, ending: Parameters<JobWriter["settle"]>[0], ref: AttemptRef, outcome: AttemptOutcome, log: Logger): Promise<SettleResult> {
  try {
    return await writer.settle(ending);
  } catch (err) {
    if (outcome.kind !== "succeeded" || !isPermanent(err)) throw err;
    log.error({ err }, "the result cannot be stored; failing the job");
    const failing = decideAttemptEnd({ kind: "failed", error: invalidResult((err as Error).message), retryable: false }, ref, new Date());
    if (failing.kind !== "end") throw new Error(`a failure that is not retried decided ${failing.kind}`);
    return writer.settle(failing.append);
  }
}

/** Acks once the ending is stored (or the job ended elsewhere); hands the job back otherwise. */
export async function conclude(msg: JsMsg, result: SettleResult, log: Logger, storedMessage: string): Promise<void> {
  if (result === "gave-up") return msg.nak();
  if (result === "ended-elsewhere") log.info("the job was ended elsewhere; nothing more stored");
  else if (storedMessage) log.info(storedMessage);
  return ack(msg, log);
}

/**
 * Acks a job whose ending is stored (or that ended elsewhere). Unconfirmed (`ack`, not
 * `ackAck`): the ending is already in the stream, so a lost ack costs only a redelivery
 * after the ack wait, which finds the job final and is acked then. Waiting for the
 * server's confirmation would hold the job's slot for one more round trip.
 */
export function ack(msg: JsMsg, log: Logger): void {
  try {
    msg.ack();
  } catch (err) {
    log.warn({ err }, "ack not sent; a redelivery will be skipped");
  }
}
