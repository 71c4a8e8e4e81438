import { evolve, foldEvents, type JobView, type StoredEvent } from "@jobs/core";

/**
 * The fake store's change feed: every stored event goes to the open listeners, so a
 * fake watch sees a job change the moment a test appends an event (no polling).
 * `size` counts open watches: a test asserts it is back to 0 once a client has gone.
 */
export class EventFeed {
  private readonly listeners = new Set<(stored: StoredEvent) => void>();

  get size(): number {
    return this.listeners.size;
  }

  publish(stored: StoredEvent): void {
    for (const listener of this.listeners) listener(stored);
  }

  subscribe(listener: (stored: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * JobStore.watch on the fake: the job's view now (if it exists), then the view after each
 * later event of the job that changes it, until `signal` aborts. It subscribes before it
 * folds, so nothing stored in between is missed (the fold ignores what it already has).
 */
export async function* followJob(feed: EventFeed, eventsOf: () => StoredEvent[], jobId: string, signal: AbortSignal): AsyncGenerator<JobView> {
  const pending: StoredEvent[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = feed.subscribe((stored) => {
    if (stored.event.jobId !== jobId) return;
    pending.push(stored);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    let view = foldEvents(eventsOf());
    if (view !== null) yield view;
    while (!signal.aborted) {
      const stored = pending.shift();
      if (stored === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const next = evolve(view, stored);
      if (next !== null && next !== view) yield (view = next);
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
