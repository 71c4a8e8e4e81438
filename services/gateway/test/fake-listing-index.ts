import { foldEvents, INDEX_PAGE_SIZE, indexEntryOf, type IndexEntry, type StoredEvent } from "@jobs/core";
import type { IndexReader } from "../src/ports.ts";

/**
 * The listing index a caught-up projector would have written for these events: per
 * application, its jobs in the stream order of their requests, INDEX_PAGE_SIZE to a
 * page, each entry with the job's current status. The fake job store lists through it
 * with the real listing code.
 */
export function fakeListingIndex(events: readonly StoredEvent[]): IndexReader {
  const byJob = new Map<string, StoredEvent[]>();
  for (const e of events) byJob.set(e.event.jobId, [...(byJob.get(e.event.jobId) ?? []), e]);
  const chains = new Map<string, IndexEntry[]>();
  for (const e of events) {
    if (e.event.type !== "JobRequested" || byJob.get(e.event.jobId)?.[0] !== e) continue; // one entry per job
    const view = foldEvents(byJob.get(e.event.jobId)!)!;
    chains.set(view.app, [...(chains.get(view.app) ?? []), indexEntryOf(view)]);
  }
  const pageCount = (app: string) => Math.ceil((chains.get(app)?.length ?? 0) / INDEX_PAGE_SIZE);
  return {
    async head(app) {
      return pageCount(app) === 0 ? null : { page: pageCount(app) };
    },
    async page(app, n) {
      if (n < 1 || n > pageCount(app)) return null;
      return { entries: chains.get(app)!.slice((n - 1) * INDEX_PAGE_SIZE, n * INDEX_PAGE_SIZE) };
    },
  };
}
