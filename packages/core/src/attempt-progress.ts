import type { Decided } from "./decision.ts";
import type { JobProgress } from "./events.ts";
import { messageIds } from "./message-ids.ts";

/** The `n`th progress report of an attempt, as the runner stores it (the id makes a retried report a duplicate). */
export function attemptProgress(ref: { jobId: string; attempt: number }, n: number, percent: number, message: string | undefined, now: Date): Decided<JobProgress> {
  const { jobId, attempt } = ref;
  const data = message === undefined ? { attempt, percent } : { attempt, percent, message };
  return { event: { type: "JobProgress", jobId, time: now.toISOString(), data }, msgId: messageIds.progress(jobId, attempt, n) };
}
