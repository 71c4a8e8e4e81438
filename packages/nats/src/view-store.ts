import type { KV } from "@nats-io/kv";
import type { JobView } from "@jobs/core";

export interface ViewEntry {
  view: JobView;
  revision: number;
}

/**
 * The folded job views in the KV bucket. Writes compare revisions: `save` with the
 * revision that was read fails if anyone wrote in between, so two writers can never
 * silently overwrite each other's fold.
 */
export class ViewStore {
  readonly kv: KV;

  constructor(kv: KV) {
    this.kv = kv;
  }

  async get(jobId: string): Promise<ViewEntry | null> {
    const entry = await this.kv.get(jobId);
    if (entry === null || entry.operation !== "PUT" || entry.length === 0) return null;
    return { view: entry.json<JobView>(), revision: entry.revision };
  }

  /** Creates (revision null) or updates the view; rejects on a revision conflict. */
  async save(view: JobView, revision: number | null): Promise<number> {
    const data = JSON.stringify(view);
    return revision === null ? this.kv.create(view.id, data) : this.kv.update(view.id, data, revision);
  }
}

/** True when a KV create/update failed because the key changed under us. */
export function isRevisionConflict(err: unknown): boolean {
  const e = err as { message?: string; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e?.message ?? "");
}
