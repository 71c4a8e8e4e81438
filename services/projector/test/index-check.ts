import { expect } from "vitest";
import type { IndexEntry, JobView } from "@jobs/core";
import type { Harness } from "./harness.ts";

/**
 * Asserts that the listing index agrees with the views: every job's view names a page,
 * that page holds the job's entry with the view's type and status, and no entry stands
 * for a job that is not listed. With `inStreamOrder`, each application's chain also
 * lists its jobs in the stream order of their requests (what a rebuild lays out).
 * Returns how many entries are left-over copies (a job indexed twice after a crash;
 * listings skip them because the view names the other page).
 */
export async function expectIndexMatchesViews(h: Harness, jobIds: readonly string[], opts: { inStreamOrder?: boolean } = {}): Promise<{ copies: number }> {
  const views = new Map<string, JobView>();
  await Promise.all(
    jobIds.map(async (id) => {
      const view = (await h.views.get(id))?.view;
      expect(view, `view of ${id}`).toBeDefined();
      views.set(id, view!);
    }),
  );
  const problems: string[] = [];
  let copies = 0;
  for (const app of new Set([...views.values()].map((v) => v.app))) {
    const chain = await readChain(h, app);
    const placed = chain.filter(({ page, entry }) => views.get(entry.id)?.indexPage === page);
    copies += chain.length - placed.length;
    for (const { page, entry } of chain) if (!views.has(entry.id)) problems.push(`page ${page} lists unknown job ${entry.id}`);
    const byId = new Map(placed.map(({ entry }) => [entry.id, entry]));
    for (const view of [...views.values()].filter((v) => v.app === app)) {
      const e = byId.get(view.id);
      if (e === undefined) problems.push(`${view.id} is not on its page ${view.indexPage}`);
      else if (e.status !== view.status || e.type !== view.type) problems.push(`${view.id}: entry ${e.type}/${e.status}, view ${view.type}/${view.status}`);
    }
    if (opts.inStreamOrder) {
      const requestSeq = (id: string) => h.stored.get(id)?.find((s) => s.event.type === "JobRequested")?.seq ?? 0;
      const order = placed.map(({ entry }) => entry.id);
      expect(order, `${app}: chain order`).toEqual(order.toSorted((a, b) => requestSeq(a) - requestSeq(b)));
    }
  }
  expect(problems.length, problems.slice(0, 5).join("\n")).toBe(0);
  return { copies };
}

/** Every entry of an application's chain, oldest first, with its page. */
export async function readChain(h: Harness, app: string): Promise<{ page: number; entry: IndexEntry }[]> {
  const head = (await h.index.head(app))?.page ?? 0;
  const out: { page: number; entry: IndexEntry }[] = [];
  for (let page = 1; page <= head; page++) for (const entry of (await h.index.page(app, page))?.entries ?? []) out.push({ page, entry });
  return out;
}
