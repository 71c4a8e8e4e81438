import type { IndexEntry, JobView } from "@jobs/core";
import { apiError, ApiCodes, type IndexHeadEntry, type IndexPageEntry } from "@jobs/nats";
import type { IndexPort } from "../src/ports.ts";

/**
 * The index bucket in memory: revisions, compare-and-set (failing with the server's
 * err_code, as nats.js throws it, so isWrongLastSequence recognises it), and hooks to fail or race a write.
 */
export class FakeIndex implements IndexPort {
  readonly data = new Map<string, { value: unknown; revision: number }>();
  reads = 0;
  writes = 0;
  /** Called before each write; throw to fail it, or change `data` to make it lose a race. */
  beforeWrite: ((key: string) => void) | undefined;
  private revision = 0;

  async head(app: string): Promise<IndexHeadEntry | null> {
    this.reads++;
    const e = this.data.get(`${app}.head`);
    return e === undefined ? null : { page: (e.value as { page: number }).page, revision: e.revision };
  }

  async page(app: string, page: number): Promise<IndexPageEntry | null> {
    this.reads++;
    const e = this.data.get(`${app}.p.${page}`);
    return e === undefined ? null : { entries: structuredClone((e.value as { entries: IndexEntry[] }).entries), revision: e.revision };
  }

  async savePage(app: string, page: number, entries: readonly IndexEntry[], revision: number | null): Promise<number> {
    return this.write(`${app}.p.${page}`, { entries: structuredClone(entries) }, revision);
  }

  async saveHead(app: string, page: number, revision: number | null): Promise<number> {
    return this.write(`${app}.head`, { page }, revision);
  }

  /** Another writer (a second projector, a rebuild) puts a value. */
  put(key: string, value: unknown): void {
    this.data.set(key, { value: structuredClone(value), revision: ++this.revision });
  }

  /** The application's entries, newest page last, as [page, entry] pairs. */
  chain(app: string): [number, IndexEntry][] {
    const head = (this.data.get(`${app}.head`)?.value as { page: number } | undefined)?.page ?? 0;
    const out: [number, IndexEntry][] = [];
    for (let n = 1; n <= head; n++) {
      for (const e of (this.data.get(`${app}.p.${n}`)?.value as { entries: IndexEntry[] } | undefined)?.entries ?? []) out.push([n, e]);
    }
    return out;
  }

  private async write(key: string, value: unknown, revision: number | null): Promise<number> {
    this.beforeWrite?.(key);
    const current = this.data.get(key)?.revision ?? null;
    if (revision === null && current !== null) throw apiError(ApiCodes.StreamWrongLastSequence, "wrong last sequence: key exists");
    if (revision !== null && current !== revision) throw apiError(ApiCodes.StreamWrongLastSequence, `wrong last sequence: ${current ?? 0}`);
    this.writes++;
    this.data.set(key, { value: structuredClone(value), revision: ++this.revision });
    return this.revision;
  }
}

/** A view without its place in the index: what a fold of its events alone gives. */
export function unplaced(view: JobView | null | undefined): JobView | null {
  if (view === null || view === undefined) return null;
  const { indexPage: _, ...rest } = view;
  return rest;
}
