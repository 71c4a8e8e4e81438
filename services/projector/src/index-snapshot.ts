import { isIndexHead, isIndexPage, parseJson, type IndexEntry } from "@jobs/core";
import type { KV } from "@jobs/nats";

export interface SnapshotPage {
  entries: readonly IndexEntry[];
  revision: number;
  /** The stored value was not a page (read as empty). */
  corrupt?: true;
}

export interface AppIndexSnapshot {
  /** The head's page and revision; null when the application has no (readable) head. */
  head: { page: number; revision: number } | null;
  pages: Map<number, SnapshotPage>;
}

const HEAD_KEY = /^([A-Za-z0-9_-]+)\.head$/;
const PAGE_KEY = /^([A-Za-z0-9_-]+)\.p\.([1-9][0-9]*)$/;

/**
 * Every application's head and pages in the index bucket, read in one pass (a watch of
 * the last values) for the rebuild. A page that does not parse reads as empty (its
 * revision kept, so the rebuild can overwrite it); other keys are ignored.
 */
export async function readIndexSnapshot(kv: KV): Promise<Map<string, AppIndexSnapshot>> {
  const out = new Map<string, AppIndexSnapshot>();
  const appOf = (app: string) => {
    let snap = out.get(app);
    if (snap === undefined) out.set(app, (snap = { head: null, pages: new Map() }));
    return snap;
  };
  if ((await kv.status()).values === 0) return out;
  const watch = await kv.watch();
  try {
    for await (const e of watch) {
      const head = HEAD_KEY.exec(e.key);
      const page = PAGE_KEY.exec(e.key);
      const live = e.operation === "PUT";
      if (head !== null) {
        const value = live ? parseJson(e.value) : null;
        appOf(head[1]!).head = live ? { page: isIndexHead(value) ? value.page : 0, revision: e.revision } : null;
      } else if (page !== null) {
        const pages = appOf(page[1]!).pages;
        const value = live ? parseJson(e.value) : null;
        if (live) pages.set(Number(page[2]), isIndexPage(value) ? { entries: value.entries, revision: e.revision } : { entries: [], revision: e.revision, corrupt: true });
        else pages.delete(Number(page[2]));
      }
      if (e.delta === 0) break; // the last value present when the watch started
    }
  } finally {
    watch.stop();
  }
  return out;
}
