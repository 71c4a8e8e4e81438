import { decodeEvent, FOLD_VERSION, type JobView, type StoredEvent } from "@jobs/core";
import type { Logger } from "@jobs/service";
import { projectJobs, type ProjectionDeps, type ProjectionOutcome } from "./projection.ts";

/** The part of a JetStream message a flush needs (JsMsg has it; tests fake it). */
export interface InboundMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  ack(): void;
  nak(millis?: number): void;
}

export interface FlushDeps extends ProjectionDeps {
  log: Logger;
  /** Delay before a nak'ed event comes back, so a failing KV is not hammered. */
  nakDelayMs: number;
  /**
   * Called for each view written, with the view it replaced. Writes compare revisions,
   * so the written views of one job form a single chain, whichever projector wrote them.
   */
  onWritten?(base: JobView | null, view: JobView): void;
}

export interface FlushStats {
  messages: number;
  jobs: number;
  written: number;
  unchanged: number;
  /** Jobs refolded from the stream because an event may have arrived out of order. */
  resynced: number;
  /** Jobs refolded from the stream because their stored view was not trusted (another fold version, or not a view). */
  untrusted: number;
  /** Messages acked without folding: undecodable, or of a job with no JobRequested. */
  poison: number;
  /** Messages nak'ed because their job's write failed. */
  handedBack: number;
}

interface Item {
  msg: InboundMessage;
  stored: StoredEvent;
}

/**
 * One flush: decode, group by job (stream order within a job), project the groups
 * (projection.ts: fold, index, save), then settle the messages. A message is acked only
 * once its job's view holds it (or it needed no write); when a job's index or view
 * write fails its messages are nak'ed, in order, and the other jobs' acks stand.
 */
export async function flushBatch(batch: readonly InboundMessage[], deps: FlushDeps): Promise<FlushStats> {
  const stats: FlushStats = { messages: batch.length, jobs: 0, written: 0, unchanged: 0, resynced: 0, untrusted: 0, poison: 0, handedBack: 0 };
  const groups = groupByJob(batch, deps.log, stats);
  stats.jobs = groups.size;
  const outcomes = await projectJobs([...groups].map(([jobId, items]) => ({ jobId, events: items.map((i) => i.stored) })), deps);
  for (const [jobId, items] of groups) settleJob(jobId, items, outcomes.get(jobId)!, deps, stats);
  if (stats.untrusted > 0) {
    deps.log.warn({ jobs: stats.untrusted, foldVersion: FOLD_VERSION }, "views not of this fold version (or not views) refolded from the stream: run pnpm projector:rebuild to refold every job");
  }
  return stats;
}

/** Decoded messages by job, each job's in stream order; an undecodable one is acked and counted as poison. */
function groupByJob(batch: readonly InboundMessage[], log: Logger, stats: FlushStats): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const msg of batch) {
    let stored: StoredEvent;
    try {
      stored = { seq: msg.seq, event: decodeEvent(msg.data) };
    } catch (err) {
      // A poison message must not block the stream: say so loudly and move on.
      log.error({ seq: msg.seq, subject: msg.subject, err }, "undecodable event skipped");
      stats.poison++;
      settle(log, msg, "ack");
      continue;
    }
    const group = groups.get(stored.event.jobId);
    if (group === undefined) groups.set(stored.event.jobId, [{ msg, stored }]);
    else group.push({ msg, stored });
  }
  for (const items of groups.values()) items.sort((a, b) => a.stored.seq - b.stored.seq); // redeliveries can arrive after newer events
  return groups;
}

/** Logs and counts a job's outcome, then acks its messages, or naks them when it failed. */
function settleJob(jobId: string, items: readonly Item[], outcome: ProjectionOutcome, deps: FlushDeps, stats: FlushStats): void {
  const { log } = deps;
  if (outcome.kind === "failed") {
    log.warn({ jobId, seqs: items.map((i) => i.msg.seq), err: outcome.err }, "fold, index or view write failed; events handed back");
    stats.handedBack += items.length;
    for (const { msg } of items) settle(log, msg, "nak", deps.nakDelayMs);
    return;
  }
  if (outcome.kind === "orphan") {
    for (const { msg, stored } of items) log.error({ jobId, seq: msg.seq, type: stored.event.type }, `event skipped: ${outcome.reason}`);
    stats.poison += items.length;
  } else {
    stats[outcome.kind]++;
    if (outcome.kind === "written") {
      log.debug({ jobId, seq: outcome.view.seq, status: outcome.view.status }, "view written");
      deps.onWritten?.(outcome.base, outcome.view);
    }
    if (outcome.resync?.why === "out-of-order") {
      stats.resynced++;
      log.info({ jobId, seqs: items.map((i) => i.msg.seq) }, "events not foldable in order (redelivered, overtaken or changing nothing): view refolded from the stream");
    } else if (outcome.resync?.why === "untrusted-view") {
      stats.untrusted++;
      log.debug({ jobId, foldVersion: outcome.resync.foldVersion }, "view not trusted: refolded from the stream");
    }
  }
  for (const { msg } of items) settle(log, msg, "ack");
}

/** Acks and naks are fire-and-forget; on a closed connection they throw, and the server redelivers anyway. */
function settle(log: Logger, msg: InboundMessage, how: "ack" | "nak", delayMs?: number): void {
  try {
    if (how === "ack") msg.ack();
    else msg.nak(delayMs);
  } catch (err) {
    log.debug({ seq: msg.seq, err }, `${how} not sent; the server will redeliver`);
  }
}
