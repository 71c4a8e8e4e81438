import type { KV } from "@nats-io/kv";
import { encodeView, isTrusted, readStoredView, type JobView, type StoredView } from "@jobs/core";

export interface ViewEntry {
  view: JobView;
  revision: number;
}

/**
 * The folded job views in the KV bucket, stored with the fold version that wrote them
 * (see FOLD_VERSION in @jobs/core). Writes compare revisions: `save` with the revision
 * that was read fails if anyone wrote in between, so two writers can never silently
 * overwrite each other's fold.
 */
export class ViewStore {
  readonly kv: KV;

  constructor(kv: KV) {
    this.kv = kv;
  }

  /**
   * The job's view, when it can be trusted; null when the key is empty, or holds a view
   * of another fold version, or something that is not a view: the reader folds the job
   * from the stream instead.
   */
  async get(jobId: string): Promise<ViewEntry | null> {
    const stored = await this.readForUpdate(jobId);
    return stored !== null && isTrusted(stored) ? { view: stored.view, revision: stored.revision } : null;
  }

  /** Whatever the key holds, trusted or not, with its revision: what a writer replaces. Null when the key is empty. */
  async readForUpdate(jobId: string): Promise<StoredView | null> {
    const entry = await this.kv.get(jobId);
    if (entry === null || entry.operation !== "PUT" || entry.length === 0) return null;
    return readStoredView(entry.value, jobId, entry.revision);
  }

  /** Creates (revision null) or updates the view; rejects on a revision conflict. */
  async save(view: JobView, revision: number | null): Promise<number> {
    const data = encodeView(view);
    return revision === null ? this.kv.create(view.id, data) : this.kv.update(view.id, data, revision);
  }
}
