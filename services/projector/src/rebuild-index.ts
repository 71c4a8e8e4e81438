import { indexEntryOf, isIndexableApp, type IndexEntry, type JobView } from "@jobs/core";
import { isWrongLastSequence, type KV } from "@jobs/nats";
import type { Logger } from "@jobs/service";
import type { IndexPort } from "./ports.ts";
import { readIndexSnapshot, type AppIndexSnapshot, type SnapshotPage } from "./index-snapshot.ts";
import { IndexWriter, type IndexChange } from "./index-writer.ts";
import { mapLimit } from "./map-limit.ts";

/** A job as the rebuild folded it, with where the live view says its entry is. */
export interface RebuiltJob {
  view: JobView;
  /** Stream sequence of its JobRequested: jobs missing from the index are appended in this order. */
  requestSeq: number;
  /** The live view's `indexPage`, if it has one. */
  livePage: number | undefined;
}

export interface IndexRebuildSummary {
  /** Entries appended for jobs the index did not hold. */
  indexAppended: number;
  /** Entries whose type or status disagreed with the rebuilt view: corrected. */
  indexCorrected: number;
  /** Entries removed: extra copies of a job, and entries of jobs with no events in the stream. */
  indexRemoved: number;
}

const MAX_CONFLICTS = 10;

/**
 * Reconciles the listing index with the rebuilt views. A job keeps the place the live
 * index gave it (the page its live view names, or else the first page that lists it),
 * so a healthy index is left exactly as it is; wrong entries are corrected, copies and
 * entries of jobs with no events removed, and the jobs the index lacks are appended in
 * the stream order of their requests, as the live projector appends them. From an empty
 * bucket that lays out the very pages a live projector writes from the same stream.
 * Page writes compare revisions: a page a live projector changed meanwhile is read again
 * and judged again. Returns each job's page, for its view.
 */
export async function rebuildIndex(
  deps: { kv: KV; store: IndexPort; log: Logger; lastSeq: number },
  jobs: readonly RebuiltJob[],
): Promise<{ placements: Map<string, number>; summary: IndexRebuildSummary }> {
  const summary: IndexRebuildSummary = { indexAppended: 0, indexCorrected: 0, indexRemoved: 0 };
  const snapshot = await readIndexSnapshot(deps.kv);
  const byId = new Map(jobs.map((j) => [j.view.id, j]));
  const placements = new Map<string, number>();
  for (const [app, snap] of snapshot) for (const [id, page] of placementsIn(snap, byId)) if (byId.get(id)?.view.app === app) placements.set(id, page);

  const pages = [...snapshot].flatMap(([app, snap]) => [...snap.pages].map(([n, p]) => ({ app, n, page: p })));
  await mapLimit(pages, 64, async ({ app, n, page }) => {
    let current: SnapshotPage | null = page;
    for (let attempt = 1; current !== null; attempt++) {
      const judged = judgePage(app, n, current.entries, byId, placements, deps.lastSeq);
      if (judged.corrected + judged.removed === 0 && current.corrupt === undefined) return;
      try {
        await deps.store.savePage(app, n, judged.entries, current.revision);
        summary.indexCorrected += judged.corrected;
        summary.indexRemoved += judged.removed;
        deps.log.warn({ app, page: n, corrected: judged.corrected, removed: judged.removed }, "index page repaired");
        return;
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= MAX_CONFLICTS) throw err;
        current = await deps.store.page(app, n); // a live projector wrote it meanwhile: judge it again
      }
    }
  });
  await mapLimit([...snapshot], 64, ([app, snap]) => repairHead(app, snap, deps.store));

  const missing: IndexChange[] = jobs
    .filter((j) => !placements.has(j.view.id) && isIndexableApp(j.view.app))
    .map((j) => ({ app: j.view.app, entry: indexEntryOf(j.view), order: j.requestSeq }));
  if (missing.length > 0) {
    const { placed, failed } = await new IndexWriter(deps.store).apply(missing);
    if (failed.size > 0) throw failed.values().next().value;
    for (const [id, page] of placed) placements.set(id, page);
    summary.indexAppended = placed.size;
  }
  return { placements, summary };
}

/** Where each listed job is: the page its live view names if that page lists it, else the first page that does. */
function placementsIn(snap: AppIndexSnapshot, byId: ReadonlyMap<string, RebuiltJob>): Map<string, number> {
  const found = new Map<string, number>();
  for (const [n, page] of [...snap.pages].sort(([a], [b]) => a - b)) {
    for (const e of page.entries) {
      if (byId.get(e.id)?.livePage === n || !found.has(e.id)) found.set(e.id, n);
    }
  }
  return found;
}

/** The page as it should be: copies and entries of unknown jobs dropped, wrong entries corrected. */
function judgePage(
  app: string,
  n: number,
  entries: readonly IndexEntry[],
  byId: ReadonlyMap<string, RebuiltJob>,
  placements: ReadonlyMap<string, number>,
  lastSeq: number,
): { entries: IndexEntry[]; corrected: number; removed: number } {
  const out: IndexEntry[] = [];
  let corrected = 0;
  for (const e of entries) {
    const job = byId.get(e.id);
    const place = placements.get(e.id);
    // Not rebuilt: no events up to the scanned sequence (remove), or newer than the scan (not ours to judge).
    if (job === undefined || job.view.app !== app) {
      if (e.seq > lastSeq) out.push(e);
      continue;
    }
    if (place !== undefined && place !== n) continue; // a copy: the job is placed on another page
    const wrong = e.type !== job.view.type || e.status !== job.view.status;
    if (wrong && e.seq <= job.view.seq) {
      out.push(indexEntryOf(job.view));
      corrected++;
    } else {
      out.push(e);
    }
  }
  return { entries: out, corrected, removed: entries.length - out.length };
}

/** The head must name the newest page: a head lost, unreadable or left behind by a failed write is set again. */
async function repairHead(app: string, snap: AppIndexSnapshot, store: IndexPort): Promise<void> {
  const newest = Math.max(0, ...snap.pages.keys());
  if (newest === 0 || (snap.head !== null && snap.head.page >= newest)) return;
  try {
    await store.saveHead(app, newest, snap.head?.revision ?? null);
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err; // moved meanwhile by a live projector, which only moves it forward
  }
}
