import type { Logger } from "pino";
import { retryDelayMs } from "./backoff.ts";
import { isPermanent } from "./durable-append.ts";
import { attemptFailed, failed, succeeded } from "./job-events.ts";
import type { JobWriter, SettleResult } from "./job-writer.ts";
import type { JsMsg } from "./nats-types.ts";
import type { AttemptOutcome } from "./run-attempt.ts";

/**
 * Stores how an attempt ended, then acks or hands the message back. Never acks a job
 * whose ending was not stored: if storing gives up (shutdown while NATS is away), the
 * message is nak'ed and the next runner sees the attempt in the stream. When someone
 * else ended the job meanwhile (cancel, outside completion), nothing more is stored.
 */
export async function settleAttempt(
  msg: JsMsg,
  job: { jobId: string; attempt: number; lastAttempt: number },
  outcome: AttemptOutcome,
  writer: JobWriter,
  log: Logger,
): Promise<void> {
  const { jobId, attempt, lastAttempt } = job;
  switch (outcome.kind) {
    case "finished-elsewhere":
      log.info("the job was ended elsewhere (cancelled) while running; attempt dropped");
      return ack(msg, log);
    case "succeeded": {
      let result: SettleResult;
      try {
        result = await writer.settle(succeeded(jobId, attempt, asJson(outcome.result)));
      } catch (err) {
        if (!isPermanent(err)) throw err;
        log.error({ err }, "the result cannot be stored; failing the job");
        result = await writer.settle(failed(jobId, attempt, { code: "invalid_result", message: `the result cannot be stored: ${(err as Error).message}` }));
      }
      return conclude(msg, result, log, "job succeeded");
    }
    case "failed": {
      if (!outcome.retryable || attempt >= lastAttempt) {
        log.warn({ error: outcome.error }, "job failed");
        return conclude(msg, await writer.settle(failed(jobId, attempt, outcome.error)), log, "failure stored");
      }
      const delay = retryDelayMs(attempt);
      const result = await writer.settle(attemptFailed(jobId, attempt, outcome.error, new Date(Date.now() + delay)));
      if (result !== "stored") return conclude(msg, result, log, "");
      log.warn({ error: outcome.error, retryInMs: delay }, "attempt failed; will retry");
      return msg.nak(delay);
    }
    case "interrupted": {
      // Shutdown after the grace period: one quick try to record why the attempt ended,
      // then hand the job back at once. Never the end of the job, even on its last
      // attempt: an interrupted attempt does not count against maxAttempts.
      const error = { code: INTERRUPTED, message: "the runner shut down before the attempt ended" };
      log.warn("attempt interrupted by shutdown; handing the job back");
      await writer.tryOnce(attemptFailed(jobId, attempt, error, new Date()));
      return msg.nak();
    }
  }
}

/** Error code of an attempt that a runner's graceful shutdown ended. */
export const INTERRUPTED = "interrupted";

/** Acks once the ending is stored (or the job ended elsewhere); hands the job back otherwise. */
export async function conclude(msg: JsMsg, result: SettleResult, log: Logger, storedMessage: string): Promise<void> {
  if (result === "gave-up") return msg.nak();
  if (result === "ended-elsewhere") log.info("the job was ended elsewhere; nothing more stored");
  else if (storedMessage) log.info(storedMessage);
  return ack(msg, log);
}

/** A result as JSON will carry it (undefined -> null); a value JSON cannot hold throws a TypeError. */
function asJson(result: unknown): unknown {
  const text = JSON.stringify(result);
  return text === undefined ? null : JSON.parse(text);
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
