import type { JobView } from "@jobs/core";
import type { KV } from "@jobs/nats";

export interface SnapshotEntry {
  revision: number;
  /** The stored view; null when the value is not a view of that key (corrupt). */
  view: JobView | null;
}

/**
 * Every live key of the view bucket with its value and revision, read in one pass (a
 * watch of the last values) rather than a get per job.
 */
export async function readViewSnapshot(kv: KV): Promise<Map<string, SnapshotEntry>> {
  const out = new Map<string, SnapshotEntry>();
  if ((await kv.status()).values === 0) return out;
  const watch = await kv.watch();
  try {
    for await (const e of watch) {
      if (e.operation === "PUT") out.set(e.key, { revision: e.revision, view: parseView(e.key, e.value) });
      else out.delete(e.key);
      if (e.delta === 0) break; // the last value present when the watch started
    }
  } finally {
    watch.stop();
  }
  return out;
}

/** One key's current entry (null when absent or deleted). */
export async function readViewEntry(kv: KV, key: string): Promise<SnapshotEntry | null> {
  const e = await kv.get(key);
  if (e === null || e.operation !== "PUT") return null;
  return { revision: e.revision, view: parseView(key, e.value) };
}

function parseView(key: string, value: Uint8Array): JobView | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(value)) as Partial<JobView> | null;
    return v !== null && typeof v === "object" && v.id === key && typeof v.seq === "number" ? (v as JobView) : null;
  } catch {
    return null;
  }
}
