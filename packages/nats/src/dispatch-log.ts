import { randomBytes } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { messageIds, parseJson, type JobNames, type JobPriority } from "@jobs/core";
import { isNotFound, isWrongLastSequence } from "./errors.ts";

/**
 * What a ready queue holds per job: which job, the attempt it was dispatched for, and a
 * token of its own. The token stays with the dispatch through redeliveries and
 * hand-backs, and differs between copies (a repair, a request routed twice): the
 * JobStarted names it, so only the copy that started an attempt may take it over.
 */
export interface Dispatch {
  jobId: string;
  attempt: number;
  token: string;
}

/** A new dispatch of `attempt`, with a fresh token. */
export function newDispatch(jobId: string, attempt: number): Dispatch {
  return { jobId, attempt, token: randomBytes(9).toString("base64url") };
}

export function decodeDispatch(payload: Uint8Array): Dispatch | null {
  const value = parseJson(payload) as Partial<Dispatch> | undefined;
  if (typeof value?.jobId !== "string" || typeof value.token !== "string" || !Number.isInteger(value.attempt) || (value.attempt as number) < 1) return null;
  return { jobId: value.jobId, attempt: value.attempt as number, token: value.token };
}

const encoder = new TextEncoder();

/**
 * Writes to the dispatch stream (provision-dispatch.ts): a job into its ready queue, or a
 * one-shot server schedule that puts it there at a time (runAt, a retry's backoff), and
 * the schedule of a job's startBy. Every write is idempotent: a ready dispatch carries a
 * message id per attempt, and a schedule replaces the one before it on its subject.
 */
export class DispatchLog {
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly names: JobNames;

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: JobNames) {
    this.js = js;
    this.jsm = jsm;
    this.names = names;
  }

  /**
   * Puts the dispatch into its priority's ready queue now. With a message id of its token,
   * so that a publish retried after a lost ack queues it once; a copy (another token) is
   * another message, which decideDelivery tells apart. `handBack`: the same dispatch put
   * back by the runner that held it (its message may have been purged meanwhile), which
   * the duplicate window must not drop.
   */
  async ready(priority: JobPriority, d: Dispatch, opts: { handBack?: boolean } = {}): Promise<void> {
    const payload = encoder.encode(JSON.stringify(d));
    await this.js.publish(this.names.readySubject(priority, d.jobId), payload, opts.handBack ? {} : { msgID: messageIds.ready(d.jobId, d.token) });
  }

  /**
   * Makes the server put the dispatch into the ready queue at `until` (at once if it
   * has passed, also after a restart of the server). One schedule per job: a later one
   * replaces it.
   */
  async waitUntil(priority: JobPriority, d: Dispatch, until: Date): Promise<void> {
    await this.schedule(this.names.waitSubject(d.jobId), d, until, this.names.readySubject(priority, d.jobId));
  }

  /** Makes the server tell the runners (expiry consumer) at `at` that the job's startBy has come. */
  async expireAt(jobId: string, at: Date): Promise<void> {
    await this.schedule(this.names.expirySubject(jobId), { jobId }, at, this.names.expiredSubject(jobId));
  }

  /**
   * A one-shot schedule on `subject` that publishes `payload` to `target` at `at`, or at the
   * horizon: nats-server 2.15.3 fires a schedule for the year 9999 at once (its time
   * overflows), so what is due later is woken at the horizon and waits again from there.
   */
  private async schedule(subject: string, payload: unknown, at: Date, target: string): Promise<void> {
    const when = new Date(Math.min(at.getTime(), Date.now() + MAX_SCHEDULE_AHEAD_MS));
    await this.js.publish(subject, encoder.encode(JSON.stringify(payload)), { schedule: { specification: when, target } });
  }

  /**
   * Whether the stream is complete: its marker says so. No marker (a new, purged or
   * re-created stream) or one that says a repair began and has not ended: a repair is due.
   */
  async isComplete(): Promise<boolean> {
    const marker = await this.jsm.direct.getMessage(this.names.dispatchStream, { last_by_subj: this.names.dispatchMarkerSubject });
    return marker !== null && new TextDecoder().decode(marker.data) === MARKER_COMPLETE;
  }

  /** Whether the stream exists (a direct get on a deleted stream finds no responder rather than "not found"). */
  async streamExists(): Promise<boolean> {
    try {
      await this.jsm.streams.info(this.names.dispatchStream);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Marks a repair begun; returns the marker's sequence, which `markComplete` expects. */
  async markRepairing(): Promise<number> {
    return (await this.js.publish(this.names.dispatchMarkerSubject, encoder.encode(MARKER_REPAIRING))).seq;
  }

  /**
   * Marks the stream complete, if the marker the repair began with is still there: a purge
   * since then answers false, and the repair must run again. Another runner's marker
   * written meanwhile (a repair of its own) does not: the write expects whatever is last.
   */
  async markComplete(repairingSeq: number): Promise<boolean> {
    const stream = this.names.dispatchStream;
    const ours = await this.jsm.streams.getMessage(stream, { seq: repairingSeq });
    const last = await this.jsm.streams.getMessage(stream, { last_by_subj: this.names.dispatchMarkerSubject });
    if (ours === null || last === null || ours.subject !== this.names.dispatchMarkerSubject) return false;
    try {
      // Expecting the last marker: a purge between the reads and this write fails it.
      await this.js.publish(this.names.dispatchMarkerSubject, encoder.encode(MARKER_COMPLETE), { expect: { lastSubjectSequence: last.seq } });
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }
}

/** The furthest ahead a schedule is set: a year. */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 3600 * 1000;

const MARKER_REPAIRING = "repairing";
const MARKER_COMPLETE = "complete";
