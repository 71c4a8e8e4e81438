import { InvalidEventError } from "@jobs/core";
import { EventConflictError, isRefusedByClient, type ConditionalAppend, type EventLog } from "@jobs/nats";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";

/** Storing an event was given up (the shutdown grace ran out while NATS was away): the job must be handed back, not acked. */
export class GaveUpError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GaveUpError";
  }
}

/**
 * The runner's conditional append: retried with backoff while NATS is away, until the
 * event is stored or `giveUp` aborts (then GaveUpError). Retrying is safe because the
 * message id makes a second copy a duplicate the server drops, and a retry of a stored
 * event is a duplicate, not a conflict (EventLog.append tells them apart). An event that
 * can never be stored (fails its schema, cannot be serialised, exceeds the payload
 * limit) throws at once, and so does a lost race (EventConflictError).
 */
export function durableAppend(events: EventLog, opts: { giveUp: AbortSignal; log: Logger; onRetry?: () => void }): ConditionalAppend {
  return async ({ event, msgId }, expectLastEventSeq) => {
    let delay = 250;
    for (let tries = 1; ; tries++) {
      try {
        const stored = await events.append(event, msgId, { expectLastEventSeq });
        if (tries > 1) opts.log.info({ msgId, tries }, `stored ${event.type} after retrying`);
        return stored;
      } catch (err) {
        if (isPermanent(err)) throw err;
        if (opts.giveUp.aborted) {
          opts.log.error({ err, msgId }, `could not store ${event.type}; handing the job back`);
          throw new GaveUpError(`storing ${event.type} of ${event.jobId} was given up`, { cause: err });
        }
        opts.log.warn({ err, msgId, tries, retryInMs: delay }, `storing ${event.type} failed; retrying`);
        opts.onRetry?.();
        await sleep(delay, opts.giveUp);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  };
}

/** Errors no retry can fix: the event itself is wrong (or lost its race), not the connection. */
export function isPermanent(err: unknown): boolean {
  return err instanceof InvalidEventError || err instanceof TypeError || err instanceof EventConflictError || isRefusedByClient(err);
}
