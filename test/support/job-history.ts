import { decodeEvent, type JobNames, type StoredEvent } from "@jobs/core";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventLog } from "@jobs/nats";

/**
 * What the stream itself says happened, read by the test straight from JetStream (the
 * source of truth), not through the services under test.
 */

/** Every event of one job, in stream order. */
export async function jobHistory(nc: NatsConnection, names: JobNames, jobId: string): Promise<StoredEvent[]> {
  return new EventLog(jetstream(nc), await jetstreamManager(nc), names).read(jobId);
}

/** Every event in the stream up to its last sequence now, grouped by job, in stream order. */
export async function allJobHistories(nc: NatsConnection, names: JobNames): Promise<Map<string, StoredEvent[]>> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(names.stream);
  const byJob = new Map<string, StoredEvent[]>();
  if (state.messages === 0) return byJob;
  const consumer = await jetstream(nc).consumers.get(names.stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 2_000 });
  // A scan that stops receiving has lost the server: fail instead of hanging the test.
  const stall = setTimeout(() => messages.stop(new Error(`stream scan did not reach seq ${state.last_seq}`)), 30_000);
  try {
    for await (const m of messages) {
      const event = decodeEvent(m.data);
      const list = byJob.get(event.jobId) ?? [];
      list.push({ seq: m.seq, event });
      byJob.set(event.jobId, list);
      if (m.seq >= state.last_seq) break;
    }
  } finally {
    clearTimeout(stall);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  return byJob;
}

/** The JobStarted events of a history: which attempt, on which runner. */
export function startsOf(history: readonly StoredEvent[]): { seq: number; attempt: number; runner: string }[] {
  return history.flatMap(({ seq, event }) => (event.type === "JobStarted" ? [{ seq, attempt: event.data.attempt, runner: event.data.runner }] : []));
}

/** The JobFinished of a history, if any. */
export function finishOf(history: readonly StoredEvent[]) {
  for (const { event } of history) if (event.type === "JobFinished") return event.data;
  return undefined;
}
