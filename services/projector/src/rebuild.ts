import { isDeepStrictEqual } from "node:util";
import { evolve, FOLD_VERSION, type JobNames, type JobView, type StoredView } from "@jobs/core";
import { IndexStore, isWrongLastSequence, jetstream, jetstreamManager, openIndexBucket, ViewStore, type KV, type NatsConnection } from "@jobs/nats";
import type { Logger } from "@jobs/service";
import { mapLimit } from "./map-limit.ts";
import { rebuildIndex, type IndexRebuildSummary } from "./rebuild-index.ts";
import { scanStream, type ScanResult } from "./stream-scan.ts";
import { readViewSnapshot } from "./view-snapshot.ts";

export interface RebuildDeps {
  nc: NatsConnection;
  names: JobNames;
  /** The view bucket. */
  kv: KV;
  /** The listing index bucket; opened from `nc` when not given. */
  index?: KV;
  log: Logger;
}

export interface RebuildSummary extends IndexRebuildSummary {
  /** Stream sequence the rebuild read up to (the last one when it started). */
  lastSeq: number;
  eventsRead: number;
  /** Events that did not decode (logged with their seq, skipped). */
  undecodable: number;
  /** Events of jobs that have no JobRequested (logged, skipped). */
  orphanEvents: number;
  jobs: number;
  /** Views saved: created + behind + differed + outdated. */
  written: number;
  /** Jobs that had no view at all. */
  created: number;
  /** Live views that lagged behind the stream (lower seq): replaced by the newer fold. */
  behind: number;
  /** Live views that disagreed with the fold of the same events (or were not views): drift, replaced. */
  differed: number;
  /** Live views written by another fold version (FOLD_VERSION): replaced by this fold. */
  outdated: number;
  /** Live views identical to the rebuilt ones. */
  equal: number;
  /** Live views already past the rebuilt seq (the live projector is ahead): left alone. */
  ahead: number;
  /** Keys of jobs with no events in the stream (not derivable): deleted. */
  orphansRemoved: number;
  durationMs: number;
}

type Verdict = "created" | "behind" | "differed" | "outdated" | "equal" | "ahead";

const WRITE_CONCURRENCY = 256;
const MAX_CONFLICTS = 5;

/**
 * Rebuilds the view bucket from the stream's first event: fold every job in memory,
 * reconcile the listing index with the result (see rebuild-index.ts: it decides each
 * view's `indexPage`), then reconcile the bucket. A live projector may run meanwhile: a
 * view it already moved past the rebuilt seq is left alone, and every write and delete
 * compares revisions, so neither side overwrites the other's newer fold.
 */
export async function rebuildView(deps: RebuildDeps): Promise<RebuildSummary> {
  const started = Date.now();
  const { views, requestSeqs, orphanEvents, scan } = await foldStream(deps);
  deps.log.info({ events: scan.eventsRead, jobs: views.size, lastSeq: scan.lastSeq }, "stream folded");
  const snapshot = await readViewSnapshot(deps.kv);
  const indexKv = deps.index ?? (await openIndexBucket(deps.nc, deps.names));
  const rebuilt = [...views.values()].map((view) => ({ view, requestSeq: requestSeqs.get(view.id)!, livePage: snapshot.get(view.id)?.view?.indexPage }));
  const index = await rebuildIndex({ kv: indexKv, store: new IndexStore(indexKv, deps.names), log: deps.log, lastSeq: scan.lastSeq }, rebuilt);
  for (const [id, page] of index.placements) views.set(id, { ...views.get(id)!, indexPage: page });
  deps.log.info({ ...index.summary, placed: index.placements.size }, "index reconciled");

  const counts = await saveViews(views, snapshot, deps);
  const orphansRemoved = await removeOrphans(views, snapshot, scan.lastSeq, deps);
  const written = counts.created + counts.behind + counts.differed + counts.outdated;
  return { ...scan, orphanEvents, jobs: views.size, written, ...counts, orphansRemoved, ...index.summary, durationMs: Date.now() - started };
}

/** Every job of the stream folded in memory, with the seq of its JobRequested. */
async function foldStream(deps: RebuildDeps): Promise<{ views: Map<string, JobView>; requestSeqs: Map<string, number>; orphanEvents: number; scan: ScanResult }> {
  const views = new Map<string, JobView>();
  const requestSeqs = new Map<string, number>();
  let orphanEvents = 0;
  const scanDeps = { js: jetstream(deps.nc), jsm: await jetstreamManager(deps.nc), names: deps.names, log: deps.log };
  const scan = await scanStream(scanDeps, (stored) => {
    const before = views.get(stored.event.jobId) ?? null;
    const after = evolve(before, stored);
    if (before === null && after !== null) requestSeqs.set(after.id, stored.seq);
    if (after === null) {
      orphanEvents++;
      deps.log.error({ jobId: stored.event.jobId, seq: stored.seq, type: stored.event.type }, "event of a job with no JobRequested skipped");
    } else if (after !== before) views.set(after.id, after);
  });
  return { views, requestSeqs, orphanEvents, scan };
}

/** Saves each rebuilt view the live one is not equal to or ahead of; a view written meanwhile is judged again. */
async function saveViews(views: Map<string, JobView>, snapshot: Map<string, StoredView>, deps: RebuildDeps): Promise<Record<Verdict, number>> {
  const store = new ViewStore(deps.kv);
  const counts: Record<Verdict, number> = { created: 0, behind: 0, differed: 0, outdated: 0, equal: 0, ahead: 0 };
  await mapLimit([...views.values()], WRITE_CONCURRENCY, async (view) => {
    let entry = snapshot.get(view.id) ?? null;
    for (let conflicts = 0; ; conflicts++) {
      const verdict = judge(view, entry);
      if (verdict === "equal" || verdict === "ahead") return void counts[verdict]++;
      if (verdict === "differed") deps.log.warn({ jobId: view.id, live: entry?.view ?? "not a view", rebuilt: view }, "live view differs from the fold");
      try {
        await store.save(view, entry?.revision ?? null);
        return void counts[verdict]++;
      } catch (err) {
        if (!isWrongLastSequence(err) || conflicts >= MAX_CONFLICTS) throw err;
        entry = await store.readForUpdate(view.id); // written meanwhile (live projector): judge again
      }
    }
  });
  return counts;
}

/** Deletes the views of jobs with no events up to the scanned seq (not derivable); one written meanwhile is left alone. */
async function removeOrphans(views: Map<string, JobView>, snapshot: Map<string, StoredView>, lastSeq: number, deps: RebuildDeps): Promise<number> {
  let removed = 0;
  const orphans = [...snapshot].filter(([key, e]) => !views.has(key) && (e.view === null || e.view.seq <= lastSeq));
  await mapLimit(orphans, WRITE_CONCURRENCY, async ([key, e]) => {
    try {
      await deps.kv.delete(key, { previousSeq: e.revision });
      removed++;
      deps.log.warn({ jobId: key }, "view with no events in the stream removed");
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err; // written meanwhile: no longer ours to judge
    }
  });
  return removed;
}

/**
 * A live view past the rebuilt seq is left alone, whatever its fold version: it holds
 * events this rebuild did not read, and readers do not trust it if it is outdated.
 */
function judge(rebuilt: JobView, entry: StoredView | null): Verdict {
  if (entry === null) return "created";
  if (entry.view === null) return "differed";
  if (entry.view.seq > rebuilt.seq) return "ahead";
  if (entry.foldVersion !== FOLD_VERSION) return "outdated";
  if (entry.view.seq < rebuilt.seq) return "behind";
  return isDeepStrictEqual(entry.view, rebuilt) ? "equal" : "differed";
}
