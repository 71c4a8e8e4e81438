import { performance } from "node:perf_hooks";

/** One monotonic clock (ms) for every timestamp the bench compares: sends, 202s, completions. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; throws `describe()` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string, intervalMs = 50): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await check())) {
    if (now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s: ${describe()}`);
    await sleep(intervalMs);
  }
}
