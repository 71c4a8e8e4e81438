import type { JobView } from "@jobs/core";

export interface CachedView {
  view: JobView;
  revision: number;
}

/**
 * The last view and KV revision the projector wrote per job, so the steady state folds
 * an event without a KV get. Bounded: a Map keeps insertion order, so re-inserting on
 * use and evicting the first key makes it least-recently-used. An entry can go stale
 * (another writer, a rebuild); the revision check of the next write catches that.
 */
export class ViewCache {
  private readonly entries = new Map<string, CachedView>();

  readonly capacity: number;

  constructor(capacity = 20_000) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  get(jobId: string): CachedView | undefined {
    const entry = this.entries.get(jobId);
    if (entry !== undefined) {
      this.entries.delete(jobId);
      this.entries.set(jobId, entry);
    }
    return entry;
  }

  set(jobId: string, entry: CachedView): void {
    this.entries.delete(jobId);
    this.entries.set(jobId, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(jobId: string): void {
    this.entries.delete(jobId);
  }
}
