import { performance } from "node:perf_hooks";
import { sleep } from "@jobs/service";

/** One monotonic clock (ms) for every timestamp the bench compares: sends, 202s, completions. */
export const now = (): number => performance.now();

/** Polls `check` until it returns true; throws `describe()` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string, intervalMs = 50): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await check())) {
    if (now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s: ${describe()}`);
    await sleep(intervalMs);
  }
}
