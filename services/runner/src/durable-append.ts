import { InvalidEventError, type JobEvent } from "@jobs/core";
import { EventConflictError, type EventLog } from "@jobs/nats";
import type { Logger } from "pino";
import { pause } from "./backoff.ts";

/**
 * Appends an event, retrying with backoff while NATS is away, until it is stored or
 * `giveUp` aborts. Retrying is safe because the message id makes a second copy a
 * duplicate the server drops. Returns the stream sequence (of the first copy, for a
 * duplicate), or null when it gave up: the caller must then not ack the job (its
 * outcome is not stored), only hand it back. An event that can never be stored (fails
 * its schema, cannot be serialised, exceeds the payload limit) throws at once, and so
 * does a lost race under `expectLastEventSeq` (EventConflictError). A retry of a stored
 * event is a duplicate, not a conflict (EventLog.append tells them apart by the message
 * id of the job's last event; job-writer.int.test.ts).
 */
export async function appendUntilStored(
  events: EventLog,
  event: JobEvent,
  msgId: string,
  opts: { giveUp: AbortSignal; log: Logger; onRetry?: () => void; expectLastEventSeq?: number },
): Promise<number | null> {
  let delay = 250;
  for (let tries = 1; ; tries++) {
    try {
      const { seq } = await events.append(event, msgId, opts.expectLastEventSeq === undefined ? {} : { expectLastEventSeq: opts.expectLastEventSeq });
      if (tries > 1) opts.log.info({ msgId, tries }, `stored ${event.type} after retrying`);
      return seq;
    } catch (err) {
      if (isPermanent(err)) throw err;
      if (opts.giveUp.aborted) {
        opts.log.error({ err, msgId }, `could not store ${event.type}; handing the job back`);
        return null;
      }
      opts.log.warn({ err, msgId, tries, retryInMs: delay }, `storing ${event.type} failed; retrying`);
      opts.onRetry?.();
      await pause(delay, opts.giveUp);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** Errors no retry can fix: the event itself is wrong (or lost its race), not the connection. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof InvalidEventError || err instanceof TypeError || err instanceof EventConflictError) return true;
  return /max.?payload/i.test((err as { message?: string })?.message ?? "");
}
