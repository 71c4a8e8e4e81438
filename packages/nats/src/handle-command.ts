import type { Decided, Decision, JobEvent, StoredEvent } from "@jobs/core";
import { EventConflictError } from "./event-log.ts";

/** A job's events as read, and the sequence of its last event after the request (0: none): what a conditional append expects. */
export interface JobState {
  events: StoredEvent[];
  lastEventSeq: number;
}

/** Where a command reads a job's events: EventLog, or the gateway's store (which the API tests fake). */
export interface JobStateReader {
  readForUpdate(jobId: string): Promise<JobState>;
}

/**
 * Stores a decided event only if the job's last event is still `expectLastEventSeq`,
 * else throws EventConflictError and stores nothing (EventLog.append with that option,
 * or a wrapper of it that retries while NATS is away).
 */
export type ConditionalAppend<E extends JobEvent = JobEvent> = (decided: Decided<E>, expectLastEventSeq: number) => Promise<{ seq: number; duplicate: boolean }>;

export interface HandleCommandOptions<E extends JobEvent = JobEvent> {
  append: ConditionalAppend<E>;
  /** The job as the caller already knows it (a runner's own last write): the first decision then needs no read. */
  known?: JobState;
  /** Decisions before a job that keeps changing makes it give up with EventConflictError (default 5). */
  maxTries?: number;
  /**
   * Whether a duplicate (the message id was stored already) is another writer's event
   * under the same id, to be read and decided on again (the gateway's cancels, two of
   * which share one id), rather than this writer's own retry (the default).
   */
  duplicateIsAnotherWriters?: boolean;
}

export type CommandResult<R> =
  | { kind: "appended"; seq: number; duplicate: boolean; state: JobState }
  | { kind: "rejected"; rejection: R; state: JobState };

/**
 * Every command on a job, from any service: read the job's events, decide with a pure
 * decider, store the decided event at the sequence that was read, and when another
 * event was stored in between, read and decide again (the new decision may refuse where
 * the first accepted). This is the only place that loop is written.
 *
 * Resolves with the stored event's sequence and the job's state after it, or with the
 * decider's refusal; throws EventConflictError after `maxTries` lost races, and whatever
 * `append` throws for an outage.
 */
export async function handleCommand<R, E extends JobEvent = JobEvent>(
  reader: JobStateReader,
  jobId: string,
  decide: (events: readonly StoredEvent[]) => Decision<R, E>,
  opts: HandleCommandOptions<E>,
): Promise<CommandResult<R>> {
  const maxTries = opts.maxTries ?? DEFAULT_MAX_TRIES;
  let state = opts.known ?? (await reader.readForUpdate(jobId));
  for (let tries = 1; ; tries++) {
    const decision = decide(state.events);
    if ("reject" in decision) return { kind: "rejected", rejection: decision.reject, state };
    let lost: unknown;
    try {
      const { seq, duplicate } = await opts.append(decision.append, state.lastEventSeq);
      if (!duplicate || !opts.duplicateIsAnotherWriters) {
        return { kind: "appended", seq, duplicate, state: { events: [...state.events, { seq, event: decision.append.event }], lastEventSeq: seq } };
      }
      lost = new EventConflictError(jobId, state.lastEventSeq);
    } catch (err) {
      if (!(err instanceof EventConflictError)) throw err;
      lost = err;
    }
    if (tries >= maxTries) throw lost;
    state = await reader.readForUpdate(jobId);
  }
}

const DEFAULT_MAX_TRIES = 5;
