import { setTimeout as sleep } from "node:timers/promises";
import { decodeEvent, type JobEvent, type JobNames } from "@jobs/core";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@jobs/nats";

export interface JobEventFeedOptions {
  js: JetStreamClient;
  names: JobNames;
  /** Called for each stored event, in stream order, one at a time. */
  onEvent(event: JobEvent): void;
  /** The feed failed (it is re-created) or an event could not be decoded (it is skipped). */
  onError(err: unknown): void;
  signal: AbortSignal;
}

/**
 * Every event stored in the stream from now on, for the gateway's job metrics. It reads
 * the stream through an ordered consumer rather than a core subscription on the
 * subjects: a core subscriber also hears publishes the stream refused or dropped (a
 * conditional JobStarted or cancel that lost its race, a duplicate retry of a publish),
 * and misses what was stored while it was disconnected. The ordered consumer delivers
 * exactly what is stored, in order, and resumes after the last sequence it delivered
 * when it has to be re-created. Runs until `signal` aborts.
 */
export async function followStoredEvents(opts: JobEventFeedOptions): Promise<void> {
  const { js, names, signal } = opts;
  let nextSeq: number | undefined; // undefined until the first event: start at the stream's end
  let backoffMs = 250;
  while (!signal.aborted) {
    try {
      const consumer = await js.consumers.get(
        names.stream,
        nextSeq === undefined ? { deliver_policy: DeliverPolicy.New } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: nextSeq },
      );
      const messages = await consumer.consume({ max_messages: 1_000 });
      const stop = () => void messages.stop();
      signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const m of messages) {
          nextSeq = m.seq + 1;
          backoffMs = 250;
          let event: JobEvent;
          try {
            event = decodeEvent(m.data);
          } catch (err) {
            opts.onError(err);
            continue;
          }
          opts.onEvent(event);
        }
      } finally {
        signal.removeEventListener("abort", stop);
      }
    } catch (err) {
      if (!signal.aborted) opts.onError(err);
    }
    if (signal.aborted) break;
    await sleep(backoffMs, undefined, { signal }).catch(() => undefined);
    backoffMs = Math.min(backoffMs * 2, 10_000);
  }
}

/** The type of a job, from its request event (a direct get of the last message on its literal request subject). */
export function requestedTypeLookup(jsm: JetStreamManager, names: JobNames): (jobId: string) => Promise<string | null> {
  return async (jobId) => {
    const m = await jsm.direct.getMessage(names.stream, { last_by_subj: names.requestSubject(jobId) });
    if (m === null) return null;
    const event = decodeEvent(m.data);
    return event.type === "JobRequested" ? event.data.jobType : null;
  };
}
