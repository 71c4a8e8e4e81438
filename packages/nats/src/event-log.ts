import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JetStreamPublishOptions } from "@nats-io/jetstream";
import { decodeEvent, encodeEvent, isRouted, priorityOf, type JobEvent, type JobNames, type StoredEvent } from "@jobs/core";
import { isUnanswered, isWrongLastSequence } from "./errors.ts";

/**
 * Writing and reading job events on the stream. Every publish carries a message id, so
 * a publish retried after a lost ack is dropped by the server as a duplicate (within
 * the stream's 2-minute duplicate window).
 */
export class EventLog {
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  readonly names: JobNames;

  constructor(
    js: JetStreamClient,
    jsm: JetStreamManager,
    names: JobNames,
  ) {
    this.js = js;
    this.jsm = jsm;
    this.names = names;
  }

  /**
   * Subject an event goes to: for a JobRequested, the runners' request subject, or the
   * routed one when the job needs the dispatch stream (a priority, runAt or startBy:
   * isRouted); the job's event subject otherwise.
   */
  subjectOf(event: JobEvent): string {
    if (event.type !== "JobRequested") return this.names.eventSubject(event.jobId);
    return isRouted(event) ? this.names.routedSubject(event.jobId, priorityOf(event)) : this.names.requestSubject(event.jobId);
  }

  /**
   * Publishes one event and waits for JetStream's ack: when this resolves the event is
   * stored. Returns the stream sequence (of the first copy, for a duplicate). A
   * JobRequested for a job that already has one is refused (EventConflictError) unless
   * it is the same message (a retry).
   *
   * `expectLastEventSeq` makes the write conditional (optimistic concurrency per job): it
   * is stored only if the last message on the job's event subject is still that sequence
   * (0: the job has no event after its request yet); otherwise it throws
   * `EventConflictError` and nothing is stored. This is how a cancel and a runner's
   * JobStarted, or a completion and a timeout, can never both win.
   *
   * The server checks the expectation before the message id, so a retry of a write that
   * was stored (its ack lost) fails the expectation: when the job's last event carries
   * this very message id, that is our own first copy, and the retry is a duplicate.
   *
   * An unanswered publish is not an answer: the server may have stored it and be slow to
   * say so (a backlog of fsyncs), or it may have been lost on the wire. With `tries` > 1
   * the same message is sent again after each `timeoutMs` without an answer, and the
   * first answer says which it was; after the last unanswered try the job's subject is
   * read once, so that a copy stored meanwhile is reported stored rather than thrown as
   * a timeout. A copy found after an unanswered try is taken as this call's own
   * (`duplicate: false`): the message ids are per job, so only a concurrent writer of
   * the same job with the same id (an Idempotency-Key race) could have stored it.
   */
  async append(
    event: JobEvent,
    msgId: string,
    opts: { timeoutMs?: number; expectLastEventSeq?: number; tries?: number } = {},
  ): Promise<{ seq: number; duplicate: boolean }> {
    if (opts.expectLastEventSeq !== undefined && event.type === "JobRequested") {
      throw new Error("expectLastEventSeq applies to the event subject, not to JobRequested");
    }
    const tries = Math.max(1, opts.tries ?? 1);
    let unanswered = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(this.subjectOf(event), encodeEvent(event), {
          msgID: msgId,
          timeout: opts.timeoutMs ?? 5_000,
          expect: this.expectation(event, opts.expectLastEventSeq),
        });
        return { seq: ack.seq, duplicate: ack.duplicate && !unanswered };
      } catch (err) {
        if (isWrongLastSequence(err)) {
          const ours = await this.storedCopy(event, msgId);
          if (ours !== null) return { seq: ours, duplicate: !unanswered };
          throw new EventConflictError(event.jobId, opts.expectLastEventSeq ?? 0, { cause: err });
        }
        if (!isUnanswered(err)) throw err;
        unanswered = true;
        if (attempt < tries) continue;
        const ours = await this.storedCopy(event, msgId).catch(() => null);
        if (ours !== null) return { seq: ours, duplicate: false };
        throw err;
      }
    }
  }

  /**
   * A JobRequested is stored only when nothing of its job is (sequence 0 over every
   * subject of the job, a wildcard the server checks): the duplicate window forgets a
   * message id after two minutes, this never does. Later events expect what the caller
   * read, when it says so.
   */
  private expectation(event: JobEvent, expectLastEventSeq: number | undefined): JetStreamPublishOptions["expect"] {
    if (event.type === "JobRequested") return { lastSubjectSequence: 0, lastSubjectSequenceSubject: this.names.jobSubjects(event.jobId) };
    return expectLastEventSeq === undefined ? {} : { lastSubjectSequence: expectLastEventSeq };
  }

  /** The sequence of the job's last event when it is the one published with `msgId`, else null. */
  private async storedCopy(event: JobEvent, msgId: string): Promise<number | null> {
    const ours = (m: { header?: { get(k: string): string } } | null) => m !== null && m.header?.get(MSG_ID_HEADER) === msgId;
    let last = await this.jsm.direct.getMessage(this.names.stream, { last_by_subj: this.subjectOf(event) });
    // A replica that answered the direct get may not have applied our first copy yet.
    if (!ours(last)) last = await this.fromLeader(this.subjectOf(event));
    return last !== null && ours(last) ? last.seq : null;
  }

  /**
   * The last message on `subject` as the stream leader has it. Direct gets are answered
   * by any replica that is nearly caught up (R3), which applies a write a moment after
   * the leader acknowledged it; only the leader is sure to hold what was just stored.
   * Slower (the JetStream API), so only asked when a direct get found nothing or not
   * the message expected.
   */
  private fromLeader(subject: string) {
    return this.jsm.streams.getMessage(this.names.stream, { last_by_subj: subject });
  }

  /**
   * The job's request, on whichever of its two subjects it is (the common one first). A
   * job just accepted may not be on the replica that answers the direct get yet: never
   * call it unknown before the leader says so.
   */
  private async requestOf(jobId: string) {
    const subjects = this.names.requestSubjects(jobId);
    for (const subject of subjects) {
      const found = await this.jsm.direct.getMessage(this.names.stream, { last_by_subj: subject });
      if (found !== null) return found;
    }
    for (const subject of subjects) {
      const found = await this.fromLeader(subject);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * The job's events and the sequence of the last one on its event subject (0 when the
   * job has only its request): what a conditional append expects.
   */
  async readForUpdate(jobId: string): Promise<{ events: StoredEvent[]; lastEventSeq: number }> {
    const events = await this.read(jobId);
    return { events, lastEventSeq: lastEventSeq(events) };
  }

  /**
   * The last event on the job's event subject (null when the job has only its request),
   * by one direct get: what a runner that starts listening late checks for an ending it
   * did not hear.
   */
  async lastEvent(jobId: string): Promise<StoredEvent | null> {
    const last = await this.jsm.direct.getMessage(this.names.stream, { last_by_subj: this.names.eventSubject(jobId) });
    return last === null ? null : { seq: last.seq, event: decodeEvent(last.data) };
  }

  /**
   * Every event of one job, in stream order: the request by a direct get of the last
   * message on its literal subject, the rest through a short-lived consumer on the job's
   * literal event subject (both use the server's per-subject index).
   */
  async read(jobId: string): Promise<StoredEvent[]> {
    const request = await this.requestOf(jobId);
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

/** Sequence of the last event after the request (those share the job's event subject); 0 if none. */
export function lastEventSeq(events: readonly StoredEvent[]): number {
  let last = 0;
  for (const e of events) if (e.event.type !== "JobRequested" && e.seq > last) last = e.seq;
  return last;
}

/** A conditional append lost: another event was stored on the job's subject first. */
export class EventConflictError extends Error {
  readonly jobId: string;
  readonly expectedLastEventSeq: number;

  constructor(
    jobId: string,
    expectedLastEventSeq: number,
    options?: ErrorOptions,
  ) {
    super(`job ${jobId} changed since event seq ${expectedLastEventSeq}`, options);
    this.jobId = jobId;
    this.expectedLastEventSeq = expectedLastEventSeq;
    this.name = "EventConflictError";
  }
}

const MSG_ID_HEADER = "Nats-Msg-Id";
