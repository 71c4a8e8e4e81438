import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { decodeEvent, encodeEvent, type JobEvent, type JobNames, type StoredEvent } from "@jobs/core";

/**
 * Writing and reading job events on the stream. Every publish carries a message id, so
 * a publish retried after a lost ack is dropped by the server as a duplicate (within
 * the stream's 2-minute duplicate window).
 */
export class EventLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly names: JobNames,
  ) {}

  /** Subject an event goes to: the request subject for JobRequested, the job's event subject otherwise. */
  subjectOf(event: JobEvent): string {
    return event.type === "JobRequested" ? this.names.requestSubject(event.jobId) : this.names.eventSubject(event.jobId);
  }

  /**
   * Publishes one event and waits for JetStream's ack: when this resolves the event is
   * stored. Returns the stream sequence (of the first copy, for a duplicate).
   */
  async append(event: JobEvent, msgId: string, opts: { timeoutMs?: number } = {}): Promise<{ seq: number; duplicate: boolean }> {
    const ack = await this.js.publish(this.subjectOf(event), encodeEvent(event), {
      msgID: msgId,
      timeout: opts.timeoutMs ?? 5_000,
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Every event of one job, in stream order: the request by a direct get of the last
   * message on its literal subject, the rest through a short-lived ordered consumer on
   * the job's literal event subject (both use the server's per-subject index).
   */
  async read(jobId: string): Promise<StoredEvent[]> {
    const request = await this.jsm.direct.getMessage(this.names.stream, { last_by_subj: this.names.requestSubject(jobId) });
    if (request === null) return [];
    const out: StoredEvent[] = [{ seq: request.seq, event: decodeEvent(request.data) }];
    const subject = this.names.eventSubject(jobId);
    const last = await this.jsm.direct.getMessage(this.names.stream, { last_by_subj: subject });
    if (last === null) return out;
    const consumer = await this.js.consumers.get(this.names.stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.All,
    });
    try {
      let seen = 0;
      while (seen < last.seq) {
        const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          seen = m.seq;
          if (m.seq <= last.seq) out.push({ seq: m.seq, event: decodeEvent(m.data) });
          if (seen >= last.seq) break;
        }
        if (got === 0) throw new Error(`stream did not deliver events of ${jobId} up to seq ${last.seq}`);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  }
}
