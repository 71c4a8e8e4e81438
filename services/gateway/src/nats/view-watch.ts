import { decodeView, type JobView } from "@jobs/core";
import type { KV } from "@jobs/nats";
import { sleep } from "@jobs/service";

export interface ViewWatchOptions {
  /** First wait before a failed or ended watch is re-created; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A watch failed (or a value could not be read) and will be re-created. */
  onError?: (err: unknown) => void;
}

type Watcher = Awaited<ReturnType<KV["watch"]>>;

/**
 * One job's view as the projector writes it: a KV watch on the job's key in the view
 * bucket, which delivers the current value first and then every update. A watch that
 * fails or ends by itself (consumer lost, connection trouble) is re-created with
 * backoff; the new one delivers the latest value again, so a change made meanwhile is
 * not lost (intermediate views may be, which a watcher of views does not need).
 * Ends when `signal` aborts: the watch is stopped and its consumer deleted at once (an
 * SSE client that leaves leaves nothing on the server).
 */
export async function* watchViewKey(kv: KV, key: string, signal: AbortSignal, opts: ViewWatchOptions = {}): AsyncGenerator<JobView> {
  const initialBackoffMs = opts.initialBackoffMs ?? 250;
  let backoffMs = initialBackoffMs;
  while (!signal.aborted) {
    let watcher: Watcher | undefined;
    const stop = () => watcher?.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      watcher = await kv.watch({ key });
      if (signal.aborted) watcher.stop(); // aborted while the watch was being created
      for await (const entry of watcher) {
        backoffMs = initialBackoffMs;
        if (entry.operation !== "PUT" || entry.length === 0) continue;
        const view = parse(entry, key, opts);
        if (view !== null) yield view;
      }
    } catch (err) {
      if (!signal.aborted) opts.onError?.(err);
    } finally {
      signal.removeEventListener("abort", stop);
      watcher?.stop();
      if (watcher) void deleteConsumerOf(watcher);
    }
    if (signal.aborted) break;
    await sleep(backoffMs, signal);
    backoffMs = Math.min(backoffMs * 2, opts.maxBackoffMs ?? 10_000);
  }
}

/**
 * Stopping a KV watch only unsubscribes: the server would keep its ordered consumer for
 * the 5-minute inactive threshold nats.js gives it, one per SSE client that came and went.
 * kv.watch() keeps that consumer on the iterator (`_data`, nats.js 3.4 kv.ts); deleting it
 * is best effort (the threshold still removes what a lost connection leaves).
 */
async function deleteConsumerOf(watcher: Watcher): Promise<void> {
  const consumer = (watcher as { _data?: { delete?: () => Promise<unknown> } })._data;
  await consumer?.delete?.().catch(() => undefined);
}

/**
 * A value that is not a view of the key is reported and skipped: re-reading it would not
 * fix it. A view of another fold version is passed on: the projector replaces it with a
 * current one, which the watch then delivers.
 */
function parse(entry: { value: Uint8Array }, key: string, opts: ViewWatchOptions): JobView | null {
  try {
    return decodeView(entry.value, key).view;
  } catch (err) {
    opts.onError?.(err);
    return null;
  }
}
