import { isDeepStrictEqual } from "node:util";
import { evolve, foldEvents, InvalidEventError, isFinal, type JobView, type StoredEvent } from "@jobs/core";
import { isRevisionConflict, type ViewEntry } from "@jobs/nats";
import type { ViewCache } from "./view-cache.ts";

/** Where views live (ViewStore implements it; tests use a fake). */
export interface ViewPort {
  get(jobId: string): Promise<ViewEntry | null>;
  /** Creates (revision null) or updates with compare-and-set; rejects on a conflict. */
  save(view: JobView, revision: number | null): Promise<number>;
}

/** Every event of one job in stream order (EventLog implements it). */
export interface HistoryPort {
  read(jobId: string): Promise<StoredEvent[]>;
}

export type ProjectionOutcome =
  | { kind: "written"; view: JobView; resynced: boolean }
  | { kind: "unchanged"; resynced: boolean }
  /** Nothing to fold into: the stream holds no JobRequested for the job, or its history does not decode. */
  | { kind: "orphan"; reason: string };

const MAX_CONFLICTS = 5;

/**
 * Folds one job's events of a flush (sorted by seq) over its current view and writes
 * the result once, with the revision it read.
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
 * null. In the steady state none of these happens and no read is needed at all.
 */
export async function projectJob(
  jobId: string,
  events: readonly StoredEvent[],
  deps: { views: ViewPort; history: HistoryPort; cache: ViewCache },
): Promise<ProjectionOutcome> {
  for (let conflicts = 0; ; conflicts++) {
    const current = await currentEntry(jobId, events, conflicts === 0, deps);
    const base = current?.view ?? null;
    let next = foldInOrder(base, events);
    let resynced = false;
    if (next === undefined) {
      resynced = true;
      const history = await readHistory(jobId, deps.history);
      if (typeof history === "string") return { kind: "orphan", reason: history };
      next = foldEvents(history);
      if (next === null) return { kind: "orphan", reason: "the stream holds no JobRequested for this job" };
      if (base !== null && isDeepStrictEqual(next, base)) next = base;
    }
    if (next === base || next === null) return { kind: "unchanged", resynced };
    try {
      const revision = await deps.views.save(next, current?.revision ?? null);
      deps.cache.set(jobId, { view: next, revision });
      return { kind: "written", view: next, resynced };
    } catch (err) {
      // On a conflict someone else wrote (another projector, a rebuild): read again and
      // re-fold. On any other error the write may or may not have happened: forget.
      deps.cache.delete(jobId);
      if (!isRevisionConflict(err) || conflicts >= MAX_CONFLICTS) throw err;
    }
  }
}

/** The cached entry, or the KV one. A job whose first event is its request is new: skip the read (create fails if it is not). */
async function currentEntry(jobId: string, events: readonly StoredEvent[], firstTry: boolean, deps: { views: ViewPort; cache: ViewCache }) {
  const cached = deps.cache.get(jobId);
  if (cached !== undefined) return cached;
  if (firstTry && events[0]?.event.type === "JobRequested") return null;
  return deps.views.get(jobId);
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
