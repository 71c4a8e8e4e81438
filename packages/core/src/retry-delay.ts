/** Delay before attempt `attempt + 1` after attempt `attempt` failed: 1 s · 2^(attempt−1), at most 60 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 60_000);
}
