/**
 * Resolves after `ms`, or at once when `signal` aborts (before or during the wait).
 * Never rejects: a loop that sleeps between tries checks `signal.aborted` itself. The
 * one sleep of the project; job types that must end with an abort use
 * `node:timers/promises`, which rejects.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
