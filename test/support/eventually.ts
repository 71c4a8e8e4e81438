import { sleep } from "@jobs/service";

/** Retries `check` until it stops throwing or the time runs out; never a bare sleep. */
export async function eventually<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (err) {
      lastError = err;
      await sleep(opts.intervalMs ?? 50);
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
