import { decodeEvent, type JobNames } from "@jobs/core";
import type { NatsConnection } from "@jobs/nats";

/**
 * Hears a JobFinished that someone else stores for a running job (a cancel through the
 * gateway, an outside completion) so the runner can abort the attempt instead of
 * finishing work nobody wants. A plain NATS subscription on the job's literal event
 * subject: JetStream publishes reach core subscribers too, and it costs nothing when
 * nothing happens. A JobFinished stored before the subscription exists is not heard;
 * the fold ignores whatever the runner stores after it.
 */
export function watchForFinish(nc: NatsConnection, names: JobNames, jobId: string, onFinished: () => void): { stop(): void } {
  const sub = nc.subscribe(names.eventSubject(jobId), {
    callback: (err, msg) => {
      if (err) return;
      try {
        if (decodeEvent(msg.data).type === "JobFinished") onFinished();
      } catch {
        // not an event we understand: not ours to judge here
      }
    },
  });
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      sub.unsubscribe();
    },
  };
}
