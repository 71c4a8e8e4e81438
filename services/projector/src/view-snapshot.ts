import { readStoredView, type StoredView } from "@jobs/core";
import type { KV } from "@jobs/nats";

/**
 * Every live key of the view bucket with its value (decoded and checked, see
 * readStoredView) and revision, read in one pass (a watch of the last values) rather
 * than a get per job.
 */
export async function readViewSnapshot(kv: KV): Promise<Map<string, StoredView>> {
  const out = new Map<string, StoredView>();
  if ((await kv.status()).values === 0) return out;
  const watch = await kv.watch();
  try {
    for await (const e of watch) {
      if (e.operation === "PUT") out.set(e.key, readStoredView(e.value, e.key, e.revision));
      else out.delete(e.key);
      if (e.delta === 0) break; // the last value present when the watch started
    }
  } finally {
    watch.stop();
  }
  return out;
}
