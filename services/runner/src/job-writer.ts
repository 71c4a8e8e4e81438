import { foldEvents, isFinal, type JobEvent } from "@jobs/core";
import { EventConflictError, lastEventSeq, type EventLog } from "@jobs/nats";
import type { Logger } from "pino";
import { appendUntilStored } from "./durable-append.ts";

export type SettleResult = "stored" | "ended-elsewhere" | "gave-up";

/**
 * Writes the events of one job delivery, each conditional on the job's last event being
 * the one this runner knows (`lastSeq`): a cancel or an outside completion stored in
 * between makes the write fail instead of adding a second ending. On such a conflict the
 * writer reads the job again: if it has ended, the runner's event is dropped; if not
 * (say a progress whose ack was lost did get stored), it retries against the new last event.
 */
export class JobWriter {
  private readonly events: EventLog;
  private readonly jobId: string;
  /** Sequence of the job's last event after its request (0: none yet). */
  private lastSeq: number;
  private readonly opts: { giveUp: AbortSignal; log: Logger; onRetry?: () => void };

  constructor(
    events: EventLog,
    jobId: string,
    lastSeq: number,
    opts: { giveUp: AbortSignal; log: Logger; onRetry?: () => void },
  ) {
    this.events = events;
    this.jobId = jobId;
    this.lastSeq = lastSeq;
    this.opts = opts;
  }

  /** The JobStarted: stored or null (gave up); throws EventConflictError when the job changed meanwhile. */
  async start([event, msgId]: [JobEvent, string]): Promise<number | null> {
    const seq = await appendUntilStored(this.events, event, msgId, { ...this.opts, expectLastEventSeq: this.lastSeq });
    if (seq !== null) this.lastSeq = seq;
    return seq;
  }

  /**
   * Best effort, one try with a short timeout (progress; an interrupted attempt at
   * shutdown): false when not stored. Never throws.
   */
  async tryOnce([event, msgId]: [JobEvent, string]): Promise<boolean> {
    try {
      const { seq } = await this.events.append(event, msgId, { timeoutMs: 2_000, expectLastEventSeq: this.lastSeq });
      this.lastSeq = seq;
      return true;
    } catch (err) {
      if (err instanceof EventConflictError) await this.refresh().catch(() => undefined);
      else this.opts.log.warn({ err, msgId }, `could not store ${event.type}`);
      return false;
    }
  }

  /** An attempt's ending (JobFinished or JobAttemptFailed), retried until stored or given up. */
  async settle([event, msgId]: [JobEvent, string]): Promise<SettleResult> {
    for (;;) {
      try {
        const seq = await appendUntilStored(this.events, event, msgId, { ...this.opts, expectLastEventSeq: this.lastSeq });
        if (seq === null) return "gave-up";
        this.lastSeq = seq;
        return "stored";
      } catch (err) {
        if (!(err instanceof EventConflictError)) throw err;
        if (await this.refresh()) return "ended-elsewhere";
      }
    }
  }

  /** Re-reads the job after a conflict: true when it has ended, else catches up with its last event. */
  private async refresh(): Promise<boolean> {
    const stored = await this.events.read(this.jobId);
    const view = foldEvents(stored);
    if (view !== null && isFinal(view.status)) return true;
    this.lastSeq = lastEventSeq(stored);
    return false;
  }
}
