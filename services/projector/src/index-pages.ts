import { LruMap, type IndexEntry } from "@jobs/core";
import type { IndexHeadEntry } from "@jobs/nats";
import type { IndexPort } from "./ports.ts";

interface Cached {
  entries: readonly IndexEntry[];
  revision: number;
}

/**
 * The pages this projector wrote last, with their revisions, so that the steady state
 * (every flush touches the newest page of each application) needs no read before the
 * write. Bounded, least recently used first out; a stale entry only costs a revision
 * conflict, after which the session forgets it and reads again.
 */
export class PageCache {
  private readonly pages: LruMap<string, Cached>;
  private readonly heads: LruMap<string, IndexHeadEntry>;

  constructor(capacity = 128) {
    this.pages = new LruMap(capacity);
    this.heads = new LruMap(capacity);
  }

  page(app: string, n: number): Cached | undefined {
    return this.pages.get(`${app}.${n}`);
  }
  setPage(app: string, n: number, value: Cached): void {
    this.pages.set(`${app}.${n}`, value);
  }
  head(app: string): IndexHeadEntry | undefined {
    return this.heads.get(app);
  }
  setHead(app: string, value: IndexHeadEntry): void {
    this.heads.set(app, value);
  }
  forgetApp(app: string): void {
    this.heads.delete(app);
    for (const key of this.pages.keys()) if (key.startsWith(`${app}.`)) this.pages.delete(key);
  }
}

interface Loaded {
  entries: readonly IndexEntry[];
  /** null: the page does not exist yet (a write creates it). */
  revision: number | null;
  dirty: boolean;
}

/**
 * One attempt at changing one application's pages: reads each page once (cache first),
 * keeps the changes in memory, then writes every changed page once. `commit` writes
 * the older pages in parallel, then the chain's end in ascending order, then the head:
 * a page is never saved after a newer one failed, and the head never points past a
 * page that is not stored.
 */
export class AppPages {
  private readonly loaded = new Map<number, Loaded>();
  private headEntry: IndexHeadEntry | null | undefined;
  private newHead: number | undefined;

  private readonly store: IndexPort;
  private readonly cache: PageCache;
  readonly app: string;

  constructor(
    store: IndexPort,
    cache: PageCache,
    app: string,
  ) {
    this.store = store;
    this.cache = cache;
    this.app = app;
  }

  /** The head page number, or null when the application has no head yet. */
  async head(): Promise<number | null> {
    if (this.headEntry === undefined) this.headEntry = this.cache.head(this.app) ?? (await this.store.head(this.app));
    return this.headEntry?.page ?? null;
  }

  /** The page's entries (empty for a page that does not exist). */
  async load(n: number): Promise<readonly IndexEntry[]> {
    return (await this.loadEntry(n)).entries;
  }

  /** Whether page `n` is stored (loading it). */
  async exists(n: number): Promise<boolean> {
    return (await this.loadEntry(n)).revision !== null;
  }

  set(n: number, entries: readonly IndexEntry[]): void {
    const page = this.loaded.get(n);
    if (page === undefined) throw new Error(`page ${n} of ${this.app} was not loaded`);
    if (entries !== page.entries) this.loaded.set(n, { ...page, entries, dirty: true });
  }

  /** Moves the head to page `n` on commit (never backwards). */
  setHead(n: number): void {
    this.newHead = n;
  }

  /** Writes what changed; returns how many keys it wrote. Rejects on the first failed write. */
  async commit(tailFrom: number): Promise<number> {
    const dirty = [...this.loaded].filter(([, p]) => p.dirty).sort(([a], [b]) => a - b);
    const older = dirty.filter(([n]) => n < tailFrom);
    const tail = dirty.filter(([n]) => n >= tailFrom);
    // All settled before a failure is reported: a retry must not race writes of this attempt still in flight.
    const settled = await Promise.allSettled(older.map(([n, p]) => this.savePage(n, p)));
    const failed = settled.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    for (const [n, p] of tail) await this.savePage(n, p);
    const current = this.headEntry?.page ?? 0;
    if (this.newHead === undefined || this.newHead <= current) return dirty.length;
    const revision = await this.store.saveHead(this.app, this.newHead, this.headEntry?.revision ?? null);
    this.cache.setHead(this.app, { page: this.newHead, revision });
    return dirty.length + 1;
  }

  forget(): void {
    this.cache.forgetApp(this.app);
  }

  private async loadEntry(n: number): Promise<Loaded> {
    let page = this.loaded.get(n);
    if (page === undefined) {
      const found = this.cache.page(this.app, n) ?? (await this.store.page(this.app, n));
      page = found === null ? { entries: [], revision: null, dirty: false } : { entries: found.entries, revision: found.revision, dirty: false };
      this.loaded.set(n, page);
    }
    return page;
  }

  private async savePage(n: number, page: Loaded): Promise<void> {
    const revision = await this.store.savePage(this.app, n, page.entries, page.revision);
    this.cache.setPage(this.app, n, { entries: page.entries, revision });
  }
}
