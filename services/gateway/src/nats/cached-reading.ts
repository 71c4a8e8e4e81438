/**
 * A reading that is expensive or remote (a consumer's info from JetStream), taken at
 * most once per `ttlMs` however often it is asked for: scrapes that come together share
 * one request, and a burst of scrapes costs the server one. A failed reading is NaN
 * (Prometheus' "no value"), reported to `onError`, and cached like any other, so an
 * outage does not turn every scrape into a new request.
 */
export function cachedReading(read: () => Promise<number>, opts: { ttlMs: number; onError?: (err: unknown) => void }): () => Promise<number> {
  let last: { at: number; value: Promise<number> } | null = null;
  return () => {
    const now = Date.now();
    if (last !== null && now - last.at < opts.ttlMs) return last.value;
    const value = read().catch((err: unknown) => {
      opts.onError?.(err);
      return Number.NaN;
    });
    last = { at: now, value };
    return value;
  };
}
