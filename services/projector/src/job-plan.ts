import { isDeepStrictEqual } from "node:util";
import { evolve, FOLD_VERSION, foldEvents, indexEntryOf, InvalidEventError, isFinal, isIndexableApp, isTrusted, type JobView, type StoredEvent, type StoredView } from "@jobs/core";
import type { IndexChange } from "./index-writer.ts";
import type { HistoryPort, ViewPort } from "./ports.ts";
import type { ViewCache } from "./view-cache.ts";

/**
 * Why a job was folded from its whole history instead of over its view: one of its
 * events may have arrived out of order, or its stored view is not to be trusted (of
 * another fold version, `foldVersion`; null when the value was not a view at all).
 */
export type Resync = { why: "out-of-order" } | { why: "untrusted-view"; foldVersion: number | null };

/** What a job's events fold to, before anything is written. */
export type JobPlan =
  | {
      kind: "write";
      next: JobView;
      /** The view `next` replaces (null: none yet), as stored even when it was not trusted. */
      base: JobView | null;
      /** The revision the view was read at (null: create it). */
      revision: number | null;
      /** What its application's listing index must record first; null when nothing. */
      index: IndexChange | null;
      resync: Resync | null;
    }
  | { kind: "unchanged"; resync: Resync | null }
  /** Nothing to fold into: the stream holds no JobRequested for the job, or its history does not decode. */
  | { kind: "orphan"; reason: string };

export interface PlanDeps {
  views: ViewPort;
  history: HistoryPort;
  cache: ViewCache;
}

/**
 * Folds one job's events of a flush (sorted by seq) over its current view.
 *
 * The fold ignores anything at or below `view.seq`, which is only safe when a job's
 * events arrive in stream order. They do not always: after a projector dies, the events
 * it held come back only after ack_wait, behind newer ones; a nak'ed event comes back
 * after later ones were folded; two projector processes share the consumer. An event
 * that overtook an older one is either applied (then the older one arrives below
 * `view.seq`) or changes nothing (a JobProgress ahead of its JobStarted). So any of
 *   - an event before any JobRequested,
 *   - an event below `view.seq`,
 *   - an event above `view.seq` that changes nothing (unless the job has ended: then
 *     nothing can change it, in any order)
 * makes the job resync: its whole history is read back from the stream and folded from
 * null. So does a stored view that is not trusted, which is then always rewritten (with
 * the current fold version). In the steady state none of these happens and no read is
 * needed at all.
 */
export async function planJob(jobId: string, events: readonly StoredEvent[], deps: PlanDeps, opts: PlanOptions = {}): Promise<JobPlan> {
  const current = await currentEntry(jobId, events, opts.firstTry ?? true, deps);
  const base = current?.view ?? null;
  const trusted = current === null || isTrusted(current);
  let resync: Resync | null = trusted ? null : { why: "untrusted-view", foldVersion: current.foldVersion };
  let next = resync === null ? foldInOrder(base, events) : undefined;
  let requestSeq = requestSeqOf(events);
  if (next === undefined) {
    resync ??= { why: "out-of-order" };
    const history = await readHistory(jobId, deps.history);
    if (typeof history === "string") return { kind: "orphan", reason: history };
    next = foldEvents(history);
    if (next === null) return { kind: "orphan", reason: "the stream holds no JobRequested for this job" };
    requestSeq ??= requestSeqOf(history);
    // Where the job sits in the index is not in its events: keep it.
    if (base?.indexPage !== undefined) next = { ...next, indexPage: base.indexPage };
    if (trusted && isDeepStrictEqual(next, base)) next = base;
  }
  if (next === null) return { kind: "unchanged", resync };
  const index = indexChangeOf(base, next, requestSeqOf(events) !== undefined, requestSeq, opts.placedOn);
  if (next === base && index === null) return { kind: "unchanged", resync };
  return { kind: "write", next, base, revision: current?.revision ?? null, index, resync };
}

export interface PlanOptions {
  /** False after a conflict: read the view even for a job whose request is among the events. */
  firstTry?: boolean;
  /** The page an earlier attempt of this flush put the job's entry on (its view write then lost a race). */
  placedOn?: number;
}

/**
 * What the index must record. A job that has no page yet is appended by the projector
 * that folds its JobRequested message, and only by it: another one that folds a later
 * event first (resyncing from the stream) writes the view without a page, so that two
 * projectors never both append the same job. An indexed job whose status changed has
 * its entry updated. The index is written before the view, so its status is never
 * behind the view's for long.
 */
function indexChangeOf(base: JobView | null, next: JobView, holdsRequest: boolean, requestSeq: number | undefined, placedOn: number | undefined): IndexChange | null {
  if (!isIndexableApp(next.app)) return null;
  const page = next.indexPage ?? placedOn;
  if (page === undefined && !holdsRequest) return null;
  if (next.indexPage !== undefined && base?.status === next.status) return null;
  return { app: next.app, entry: indexEntryOf(next), page, order: requestSeq ?? next.seq };
}

function requestSeqOf(events: readonly StoredEvent[]): number | undefined {
  return events.find((e) => e.event.type === "JobRequested")?.seq;
}

/** The cached entry, or the stored one. A job whose first event is its request is new: skip the read (create fails if it is not). */
async function currentEntry(jobId: string, events: readonly StoredEvent[], firstTry: boolean, deps: PlanDeps): Promise<StoredView | null> {
  const cached = deps.cache.get(jobId);
  if (cached !== undefined) return { ...cached, foldVersion: FOLD_VERSION }; // what this process wrote: the current fold
  if (firstTry && events[0]?.event.type === "JobRequested") return null;
  return deps.views.readForUpdate(jobId);
}

/** The fold of `events` over `view`, or undefined when one of them may have arrived out of order. */
function foldInOrder(view: JobView | null, events: readonly StoredEvent[]): JobView | null | undefined {
  let next = view;
  for (const stored of events) {
    if (next === null) {
      if (stored.event.type !== "JobRequested") return undefined;
      next = evolve(next, stored);
    } else if (stored.seq < next.seq) {
      return undefined;
    } else if (stored.seq > next.seq) {
      const after = evolve(next, stored);
      // After a final status everything changes nothing, whatever the order: no doubt to clear.
      if (after === next && !isFinal(next.status)) return undefined;
      next = after;
    } // stored.seq === next.seq: this very event was folded already
  }
  return next;
}

/** The job's history, or the reason it cannot be folded (a poison event in it must not block the stream). */
async function readHistory(jobId: string, history: HistoryPort): Promise<StoredEvent[] | string> {
  try {
    return await history.read(jobId);
  } catch (err) {
    if (err instanceof InvalidEventError || err instanceof SyntaxError) return `the job's history does not decode: ${err.message}`;
    throw err;
  }
}
