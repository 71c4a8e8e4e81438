import type { KV } from "@nats-io/kv";
import { isIndexHead, isIndexPage, parseJson, type IndexEntry, type JobNames } from "@jobs/core";

export interface IndexHeadEntry {
  /** The application's newest page. */
  page: number;
  revision: number;
}

export interface IndexPageEntry {
  entries: readonly IndexEntry[];
  revision: number;
  /** The stored value was not a page: read as empty, so the next write replaces it. */
  corrupt?: true;
}

/**
 * The listing index in its KV bucket (layout in @jobs/core job-index.ts): heads and pages
 * as JSON, read with their revision and written with compare-and-set, so concurrent
 * writers (several projectors, a rebuild) never overwrite each other's pages.
 */
export class IndexStore {
  readonly kv: KV;
  private readonly names: JobNames;

  constructor(
    kv: KV,
    names: JobNames,
  ) {
    this.kv = kv;
    this.names = names;
  }

  async head(app: string): Promise<IndexHeadEntry | null> {
    const e = await this.kv.get(this.names.indexHeadKey(app));
    if (e === null || e.operation !== "PUT") return null;
    const value = parseJson(e.value);
    // A head that does not parse is as good as none: the writer finds the last page again from page 1.
    return isIndexHead(value) ? { page: value.page, revision: e.revision } : { page: 1, revision: e.revision };
  }

  async page(app: string, page: number): Promise<IndexPageEntry | null> {
    const e = await this.kv.get(this.names.indexPageKey(app, page));
    if (e === null || e.operation !== "PUT") return null;
    const value = parseJson(e.value);
    return isIndexPage(value) ? { entries: value.entries, revision: e.revision } : { entries: [], revision: e.revision, corrupt: true };
  }

  /** Creates (revision null) or updates the page; rejects on a revision conflict. */
  async savePage(app: string, page: number, entries: readonly IndexEntry[], revision: number | null): Promise<number> {
    return this.write(this.names.indexPageKey(app, page), JSON.stringify({ entries }), revision);
  }

  /** Creates (revision null) or updates the head; rejects on a revision conflict. */
  async saveHead(app: string, page: number, revision: number | null): Promise<number> {
    return this.write(this.names.indexHeadKey(app), JSON.stringify({ page }), revision);
  }

  private write(key: string, data: string, revision: number | null): Promise<number> {
    return revision === null ? this.kv.create(key, data) : this.kv.update(key, data, revision);
  }
}
