import type { JobView } from "@jobs/core";

/**
 * The fake projector's change feed: each time it catches up, the open watches hear of it
 * (no polling), as the KV watches of the real views hear of a write.
 * `size` counts open watches: a test asserts it is back to 0 once a client has gone.
 */
export class EventFeed {
  private readonly listeners = new Set<() => void>();

  get size(): number {
    return this.listeners.size;
  }

  publish(): void {
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * JobStore.watch on the fake, as a change feed delivers: the view now (if the projector
 * has one), then, whenever the projector has moved on, the latest view at that moment,
 * until `signal` aborts. Changes that pile up while the watcher is busy come out as one
 * view (the last), so intermediate views may be skipped, as the port allows.
 */
export async function* followView(feed: EventFeed, viewNow: () => JobView | null, signal: AbortSignal): AsyncGenerator<JobView> {
  let changed = true;
  let wake: (() => void) | undefined;
  const unsubscribe = feed.subscribe(() => {
    changed = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    let last = 0;
    while (!signal.aborted) {
      if (!changed) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      changed = false;
      const view = viewNow();
      if (view === null || view.seq <= last) continue;
      last = view.seq;
      yield view;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
