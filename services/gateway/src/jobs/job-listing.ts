import type { IndexEntry, JobStatus, JobView } from "@jobs/core";
import { InvalidCursorError, type IndexReader, type JobListPage, type JobListQuery, type ListPosition } from "../ports.ts";

/**
 * `GET /job`: an application's jobs, newest first, read from the listing index the
 * projector keeps (layout in @jobs/core job-index.ts). A listing walks the
 * application's pages from the newest backwards and reads the full views of the
 * entries it selects, in parallel; it never scans the view bucket.
 *
 * The index is only trusted to point: the answer is decided on the views. A view must
 * belong to the caller, match the filters (the index's status may differ from the
 * view's for a moment), and name the page the entry was found on (a job indexed twice,
 * after a projector crashed between its index and view writes, is listed only where
 * its view says).
 */

/**
 * Pages one request may read. With a filter that few jobs match, a request returns
 * what it found within this many pages, with a `next` to continue: every request's
 * work is bounded, whatever the number of jobs.
 */
export const MAX_PAGES_PER_LIST = 16;


export async function listJobs(
  index: IndexReader,
  viewOf: (id: string) => Promise<JobView | null>,
  q: JobListQuery,
  maxPages = MAX_PAGES_PER_LIST,
): Promise<JobListPage> {
  const head = (await index.head(q.app))?.page ?? 0;
  if (q.from !== undefined && q.from.page > head) throw new InvalidCursorError(`page ${q.from.page} is past the newest page ${head}`);
  let pos: ListPosition | null = q.from ?? (head > 0 ? { page: head } : null);
  const items: JobView[] = [];
  let page: { n: number; entries: readonly IndexEntry[] } | undefined;
  let pagesRead = 0;
  while (pos !== null && items.length < q.limit) {
    // The next entries before `pos` that pass the filters, as many as are still wanted.
    const picked: { id: string; page: number }[] = [];
    while (pos !== null && picked.length < q.limit - items.length) {
      if (page?.n !== pos.page) {
        if (pagesRead === maxPages) break;
        page = { n: pos.page, entries: (await index.page(q.app, pos.page))?.entries ?? [] };
        pagesRead++;
      }
      const at: number = Math.min(pos.before ?? Infinity, page.entries.length) - 1;
      pos = at > 0 ? { page: pos.page, before: at } : pos.page > 1 ? { page: pos.page - 1 } : null;
      const entry = page.entries[at];
      if (entry !== undefined && matches(entry, q)) picked.push({ id: entry.id, page: page.n });
    }
    if (picked.length === 0) break;
    const views = await Promise.all(picked.map((p) => viewOf(p.id)));
    picked.forEach((p, i) => {
      const view = views[i];
      if (view && view.app === q.app && (view.indexPage ?? p.page) === p.page && matches(view, q)) items.push(view);
    });
  }
  return { items, next: pos };
}

function matches(job: { status: JobStatus; type: string }, q: JobListQuery): boolean {
  return (q.status === undefined || job.status === q.status) && (q.type === undefined || job.type === q.type);
}
