import { decodeEvent, type JobView, type StoredEvent } from "@jobs/core";
import type { Logger } from "@jobs/service";
import { isRevisionConflict } from "@jobs/nats";
import type { IndexApplied, IndexChange } from "./index-writer.ts";
import { planJob, type JobPlan } from "./job-plan.ts";
import { commitPlan, projectJob, type HistoryPort, type IndexPlacer, type ProjectionOutcome, type ViewPort } from "./job-projection.ts";
import { mapLimit } from "./map-limit.ts";
import type { ViewCache } from "./view-cache.ts";

/** The part of a JetStream message a flush needs (JsMsg has it; tests fake it). */
export interface InboundMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  ack(): void;
  nak(millis?: number): void;
}

export interface FlushDeps {
  views: ViewPort;
  history: HistoryPort;
  cache: ViewCache;
  /** The listing index, written before the views (an IndexWriter). */
  index: IndexPlacer;
  log: Logger;
  /** KV writes of different jobs in flight at once. */
  writeConcurrency: number;
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
  resynced: number;
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
 * One flush: decode, group by job (stream order within a job), fold each group over its
 * job's view, record what the listing index must know (one write per changed page for
 * the whole flush), write each view once, then settle the messages. A message is acked
 * only once its job's view holds it (or it needed no write); when a job's index or view
 * write fails its messages are nak'ed, in order, and the other jobs' acks stand.
 */
export async function flushBatch(batch: readonly InboundMessage[], deps: FlushDeps): Promise<FlushStats> {
  const stats: FlushStats = { messages: batch.length, jobs: 0, written: 0, unchanged: 0, resynced: 0, poison: 0, handedBack: 0 };
  const groups = new Map<string, Item[]>();
  for (const msg of batch) {
    let stored: StoredEvent;
    try {
      stored = { seq: msg.seq, event: decodeEvent(msg.data) };
    } catch (err) {
      // A poison message must not block the stream: say so loudly and move on.
      deps.log.error({ seq: msg.seq, subject: msg.subject, err }, "undecodable event skipped");
      stats.poison++;
      settle(deps.log, msg, "ack");
      continue;
    }
    const group = groups.get(stored.event.jobId);
    if (group === undefined) groups.set(stored.event.jobId, [{ msg, stored }]);
    else group.push({ msg, stored });
  }
  stats.jobs = groups.size;

  const planned = await mapLimit([...groups], deps.writeConcurrency, async ([jobId, items]) => {
    items.sort((a, b) => a.stored.seq - b.stored.seq); // redeliveries can arrive after newer events
    const events = items.map((i) => i.stored);
    const plan = await planJob(jobId, events, deps).catch((err: unknown) => ({ kind: "failed" as const, err }));
    return { jobId, items, events, plan };
  });
  const changes = planned.flatMap(({ plan }) => (plan.kind === "write" && plan.index !== null ? [plan.index] : []));
  const indexed: IndexApplied = changes.length === 0 ? { placed: new Map(), failed: new Map() } : await applyIndex(changes, deps);

  await mapLimit(planned, deps.writeConcurrency, async ({ jobId, items, events, plan }) => {
    try {
      const outcome = await finishJob(jobId, events, plan, indexed, deps);
      if (outcome.kind === "orphan") {
        for (const { msg, stored } of items) deps.log.error({ jobId, seq: msg.seq, type: stored.event.type }, `event skipped: ${outcome.reason}`);
        stats.poison += items.length;
      } else {
        stats[outcome.kind]++;
        if (outcome.kind === "written") {
          deps.log.debug({ jobId, seq: outcome.view.seq, status: outcome.view.status }, "view written");
          deps.onWritten?.(outcome.base, outcome.view);
        }
        if (outcome.resynced) {
          stats.resynced++;
          deps.log.info({ jobId, seqs: items.map((i) => i.msg.seq) }, "events not foldable in order (redelivered, overtaken or changing nothing): view refolded from the stream");
        }
      }
      for (const { msg } of items) settle(deps.log, msg, "ack");
    } catch (err) {
      deps.log.warn({ jobId, seqs: items.map((i) => i.msg.seq), err }, "fold, index or view write failed; events handed back");
      stats.handedBack += items.length;
      for (const { msg } of items) settle(deps.log, msg, "nak", deps.nakDelayMs);
    }
  });
  return stats;
}

/** Index changes of the whole flush at once; a failure of the index as a whole fails each job (its events are handed back). */
async function applyIndex(changes: IndexChange[], deps: FlushDeps): Promise<IndexApplied> {
  try {
    return await deps.index.apply(changes);
  } catch (err) {
    return { placed: new Map(), failed: new Map(changes.map((c) => [c.entry.id, err])) };
  }
}

/**
 * Saves a job's planned view where the index placed it. A job that lost a race (its
 * view changed since it was read) starts over alone: read, fold, index, save.
 */
async function finishJob(
  jobId: string,
  events: readonly StoredEvent[],
  plan: JobPlan | { kind: "failed"; err: unknown },
  indexed: IndexApplied,
  deps: FlushDeps,
): Promise<ProjectionOutcome> {
  if (plan.kind === "failed") throw plan.err;
  if (plan.kind !== "write") return plan;
  if (indexed.failed.has(jobId)) throw indexed.failed.get(jobId);
  try {
    return { kind: "written", view: await commitPlan(plan, indexed.placed.get(jobId), deps), base: plan.base, resynced: plan.resynced };
  } catch (err) {
    if (!isRevisionConflict(err)) throw err;
    return projectJob(jobId, events, deps, { firstTry: false, placedOn: indexed.placed.get(jobId) });
  }
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
