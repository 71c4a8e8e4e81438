import { LruMap, type JobView } from "@jobs/core";

export interface CachedView {
  view: JobView;
  revision: number;
}

/**
 * The last view and KV revision the projector wrote per job, so the steady state folds
 * an event without a KV get. Bounded, least recently used first out. An entry can go
 * stale (another writer, a rebuild); the revision check of the next write catches that.
 */
export class ViewCache extends LruMap<string, CachedView> {
  constructor(capacity = 20_000) {
    super(capacity);
  }
}
