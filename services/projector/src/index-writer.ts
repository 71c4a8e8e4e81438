import { INDEX_PAGE_SIZE, recordEntry, type IndexEntry } from "@jobs/core";
import { isWrongLastSequence } from "@jobs/nats";
import { sleep } from "@jobs/service";
import { AppPages, PageCache } from "./index-pages.ts";
import type { IndexPort } from "./ports.ts";

/** One job's entry to record in its application's index. */
export interface IndexChange {
  app: string;
  entry: IndexEntry;
  /** The page its view says holds the entry; undefined for a job not indexed yet. */
  page?: number;
  /** Jobs new to the index are appended in this order: the stream sequence of their request. */
  order: number;
}

export interface IndexApplied {
  /** Job id -> the page that holds its entry now. */
  placed: Map<string, number>;
  /** Job id -> why its application's pages could not be written (its events go back to the stream). */
  failed: Map<string, unknown>;
}

export interface IndexWriterStats {
  keysWritten: number;
  conflicts: number;
}

const MAX_ATTEMPTS = 10;

interface Waiting {
  change: IndexChange;
  settle(result: { page: number } | { error: unknown }): void;
}

/**
 * Records index changes, batched: all the changes of one flush, grouped by application,
 * each changed page written once. A change for a job already indexed updates its entry
 * in place; a job not indexed yet (or whose page lost it) is appended to the end of its
 * application's chain, a new page being started when the last one is full.
 *
 * One round of writes per application at a time: changes that arrive while a round is
 * under way (a job retried alone after its view lost a race) wait and go together into
 * the next one, so this process never races itself for the same pages.
 *
 * Every write compares revisions; on a conflict (another projector, a rebuild) the
 * application's changes are applied again to fresh reads. Applying a change twice is
 * harmless: an append first looks for the job at the chain's end (where an earlier,
 * half-finished attempt would have put it), and an entry is only replaced by a newer one.
 */
export class IndexWriter {
  readonly stats: IndexWriterStats = { keysWritten: 0, conflicts: 0 };
  private readonly cache: PageCache;
  private readonly queues = new Map<string, Waiting[]>();

  private readonly store: IndexPort;

  constructor(
    store: IndexPort,
    opts: { cachePages?: number } = {},
  ) {
    this.store = store;
    this.cache = new PageCache(opts.cachePages);
  }

  async apply(changes: readonly IndexChange[]): Promise<IndexApplied> {
    const out: IndexApplied = { placed: new Map(), failed: new Map() };
    await Promise.all(
      changes.map(async (change) => {
        const result = await this.enqueue(change);
        if ("page" in result) out.placed.set(change.entry.id, result.page);
        else out.failed.set(change.entry.id, result.error);
      }),
    );
    return out;
  }

  private enqueue(change: IndexChange): Promise<{ page: number } | { error: unknown }> {
    return new Promise((settle) => {
      const queue = this.queues.get(change.app);
      if (queue !== undefined) return void queue.push({ change, settle }); // the running round takes it next
      this.queues.set(change.app, [{ change, settle }]);
      void this.drain(change.app);
    });
  }

  /** Rounds for one application until nothing waits; the first round starts once the caller's changes are all queued. */
  private async drain(app: string): Promise<void> {
    await Promise.resolve();
    const queue = this.queues.get(app)!;
    while (queue.length > 0) {
      const round = queue.splice(0);
      try {
        const placed = await this.applyToApp(app, round.map((w) => w.change));
        for (const w of round) w.settle({ page: placed.get(w.change.entry.id)! });
      } catch (error) {
        for (const w of round) w.settle({ error });
      }
    }
    this.queues.delete(app);
  }

  private async applyToApp(app: string, changes: readonly IndexChange[]): Promise<Map<string, number>> {
    let from: number | undefined; // the first page an earlier attempt may have appended to
    for (let attempt = 1; ; attempt++) {
      const pages = new AppPages(this.store, this.cache, app);
      try {
        const { placed, tailFrom } = await place(pages, changes, from);
        from = Math.min(from ?? tailFrom, tailFrom);
        this.stats.keysWritten += await pages.commit(tailFrom);
        return placed;
      } catch (err) {
        pages.forget();
        if (!isWrongLastSequence(err) || attempt >= MAX_ATTEMPTS) throw err;
        this.stats.conflicts++;
        await sleep(Math.random() * 5 * attempt); // let racing writers drift apart
      }
    }
  }
}

/**
 * Applies the changes to the loaded pages; `tailFrom` is the head page, where the
 * chain's end starts. Appends first look for the job from `from` (the head page an
 * earlier attempt started at, if lower: that attempt may have stored pages before it
 * failed, and another writer may have moved the head past them since).
 */
async function place(pages: AppPages, changes: readonly IndexChange[], from: number | undefined): Promise<{ placed: Map<string, number>; tailFrom: number }> {
  const placed = new Map<string, number>();
  const appends: IndexChange[] = [];
  for (const c of changes) {
    if (c.page === undefined) {
      appends.push(c);
      continue;
    }
    const entries = await pages.load(c.page);
    const at = entries.findIndex((e) => e.id === c.entry.id);
    if (at < 0) {
      appends.push(c); // the page does not hold it (the index was lost or rebuilt): index the job again
      continue;
    }
    pages.set(c.page, recordEntry(entries, at, c.entry));
    placed.set(c.entry.id, c.page);
  }
  const tailFrom = (await pages.head()) ?? 1;
  if (appends.length === 0) return { placed, tailFrom };

  // The chain's end: the head page, or a newer one stored by an attempt that failed before its head.
  let last = Math.min(from ?? tailFrom, tailFrom);
  const where = new Map<string, number>();
  for (;;) {
    for (const e of await pages.load(last)) where.set(e.id, last);
    if ((await pages.load(last)).length < INDEX_PAGE_SIZE || !(await pages.exists(last + 1))) break;
    last++;
  }
  appends.sort((a, b) => a.order - b.order);
  for (const c of appends) {
    const found = where.get(c.entry.id);
    if (found !== undefined) {
      const entries = await pages.load(found);
      pages.set(found, recordEntry(entries, entries.findIndex((e) => e.id === c.entry.id), c.entry));
      placed.set(c.entry.id, found);
      continue;
    }
    if ((await pages.load(last)).length >= INDEX_PAGE_SIZE) last++;
    pages.set(last, [...(await pages.load(last)), c.entry]);
    where.set(c.entry.id, last);
    placed.set(c.entry.id, last);
  }
  pages.setHead(last);
  return { placed, tailFrom };
}
