import { foldEvents, isFinal, type Decided, type Decision, type StoredEvent } from "@jobs/core";
import { EventConflictError, handleCommand, type ConditionalAppend, type EventLog, type JobState } from "@jobs/nats";
import type { Logger } from "pino";
import { durableAppend, GaveUpError } from "./durable-append.ts";

export type SettleResult = "stored" | "ended-elsewhere" | "gave-up";

/**
 * Writes the events of one job delivery through the one conditional append
 * (handleCommand), each conditional on the job's last event being the one this runner
 * knows: a cancel or an outside completion stored in between makes the write fail
 * instead of adding a second ending. The writer keeps the job's state as its own writes
 * leave it, so the common path reads nothing.
 */
export class JobWriter {
  private readonly events: EventLog;
  private readonly jobId: string;
  private state: JobState;
  private readonly durable: ConditionalAppend;
  private readonly log: Logger;

  constructor(events: EventLog, jobId: string, state: JobState, opts: { giveUp: AbortSignal; log: Logger; onRetry?: () => void }) {
    this.events = events;
    this.jobId = jobId;
    this.state = state;
    this.durable = durableAppend(events, opts);
    this.log = opts.log;
  }

  /** The JobStarted: its sequence, or null (gave up); throws EventConflictError when the job changed meanwhile. */
  async start(decided: Decided): Promise<number | null> {
    try {
      return await this.write(() => ({ append: decided }), { append: this.durable, maxTries: 1 });
    } catch (err) {
      if (err instanceof GaveUpError) return null;
      throw err;
    }
  }

  /**
   * Best effort, one try with a short timeout (progress; an interrupted attempt at
   * shutdown): false when not stored. Never throws.
   */
  async tryOnce(decided: Decided): Promise<boolean> {
    try {
      const append: ConditionalAppend = ({ event, msgId }, expectLastEventSeq) => this.events.append(event, msgId, { timeoutMs: 2_000, expectLastEventSeq });
      await this.write(() => ({ append: decided }), { append, maxTries: 1 });
      return true;
    } catch (err) {
      if (err instanceof EventConflictError) await this.catchUp().catch(() => undefined);
      else this.log.warn({ err, msgId: decided.msgId }, `could not store ${decided.event.type}`);
      return false;
    }
  }

  /**
   * An attempt's ending (JobFinished or JobAttemptFailed), retried until stored or given
   * up; when another event got in first, stored after it unless the job has ended.
   */
  async settle(decided: Decided): Promise<SettleResult> {
    try {
      const seq = await this.write((events) => (hasEnded(events) ? { reject: "ended-elsewhere" } : { append: decided }), {
        append: this.durable,
        maxTries: Infinity,
      });
      return seq === null ? "ended-elsewhere" : "stored";
    } catch (err) {
      if (err instanceof GaveUpError) return "gave-up";
      throw err;
    }
  }

  /** One command on the job from what the writer knows; the stored sequence, or null when the decision refused. */
  private async write(decide: (events: readonly StoredEvent[]) => Decision<string>, opts: { append: ConditionalAppend; maxTries: number }): Promise<number | null> {
    const result = await handleCommand(this.events, this.jobId, decide, { ...opts, known: this.state });
    this.state = result.state;
    return result.kind === "appended" ? result.seq : null;
  }

  /** After a lost race: the job as it is now, so that the next write expects its last event. */
  private async catchUp(): Promise<void> {
    this.state = await this.events.readForUpdate(this.jobId);
  }
}

function hasEnded(events: readonly StoredEvent[]): boolean {
  const view = foldEvents(events);
  return view !== null && isFinal(view.status);
}
