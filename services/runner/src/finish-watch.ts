import { decodeEvent, type JobEvent, type JobNames } from "@jobs/core";
import type { NatsConnection } from "@jobs/nats";
import type { Logger } from "pino";

/**
 * How long an attempt runs before the runner starts listening for an ending stored by
 * someone else. Most jobs are over by then, and a subscribe plus an unsubscribe per job
 * was a large share of the runner's and nats-server's work on short jobs. Correctness
 * never depended on the watch (every runner write is conditional on the job's last
 * event, so an ending stored elsewhere makes the runner's own store nothing); it only
 * makes the abort prompt, and a cancel is now heard at most this much later.
 */
export const FINISH_WATCH_DELAY_MS = 200;

export interface FinishWatchOptions {
  /** The last event on the job's event subject (EventLog.lastEvent), read once the subscription exists. */
  lastEvent: () => Promise<{ event: JobEvent } | null>;
  log: Logger;
  delayMs?: number;
}

/**
 * Hears a JobFinished that someone else stores for a running job (a cancel through the
 * gateway, an outside completion) so the runner can abort the attempt instead of
 * finishing work nobody wants. Starts only once the attempt has run for `delayMs`: then
 * a plain NATS subscription on the job's literal event subject (JetStream publishes
 * reach core subscribers too), followed by one read of the job's last event, for an
 * ending stored before the subscription existed. The caller stops the watch before
 * storing its own ending, so any JobFinished seen here is someone else's.
 */
export function watchForFinish(nc: NatsConnection, names: JobNames, jobId: string, onFinished: () => void, opts: FinishWatchOptions): { stop(): void } {
  let stopped = false;
  let sub: { unsubscribe(): void } | null = null;
  const begin = () => {
    if (stopped) return;
    sub = nc.subscribe(names.eventSubject(jobId), {
      callback: (err, msg) => {
        if (err || stopped) return;
        try {
          if (decodeEvent(msg.data).type === "JobFinished") onFinished();
        } catch {
          // not an event we understand: not ours to judge here
        }
      },
    });
    // Sent after the SUB on the same connection, so the server answers it with the
    // subscription in place: an ending is either in this answer or heard by the callback.
    opts.lastEvent().then(
      (last) => {
        if (!stopped && last?.event.type === "JobFinished") onFinished();
      },
      (err: unknown) => opts.log.debug({ err, jobId }, "could not read the job's last event; relying on the subscription"),
    );
  };
  const timer = setTimeout(begin, opts.delayMs ?? FINISH_WATCH_DELAY_MS);
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      sub?.unsubscribe();
    },
  };
}
