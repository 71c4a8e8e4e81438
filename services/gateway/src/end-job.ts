import { evolve, isJobId, messageIds, type JobView } from "@jobs/core";
import { ApiError } from "./errors.ts";
import type { Decision } from "./job-endings.ts";
import { EventNotStoredError, JobChangedError, type JobStore } from "./ports.ts";

/** Reads and decisions one request makes before it gives up on a job that keeps changing. */
export const MAX_END_TRIES = 5;

/** What the request does; it names the event's message id (`<id>:cancel`, `<id>:complete`). */
export type EndAction = "cancel" | "complete";

/**
 * Ends a job with the event `decide` chooses, safely against runners and other requests:
 * read the job's events from the log, decide with the pure rules, and store the event
 * only if no event of the job was stored in between. When one was (a runner started or
 * progressed the job, another request ended it), read and decide again: the new
 * decision may refuse (409) where the first accepted. After MAX_END_TRIES lost races
 * nothing is stored and the client is asked to retry (503 job_busy, Retry-After).
 *
 * Resolves with the job as it is after the stored event; throws the ApiError of a
 * refusal, of a write that was not confirmed, or of the lost races.
 */
export async function endJob(
  jobs: JobStore,
  jobId: string,
  action: EndAction,
  decide: (view: JobView | null) => Decision,
  maxTries = MAX_END_TRIES,
): Promise<JobView> {
  for (let tries = 0; tries < maxTries; tries++) {
    // Checked before any lookup: a malformed id never reaches a subject.
    const current = isJobId(jobId) ? await jobs.readForUpdate(jobId) : null;
    const decision = decide(current?.view ?? null);
    if ("refusal" in decision) throw new ApiError(decision.refusal.code, decision.refusal.detail);
    if (current === null) throw new Error(`the decision to ${action} accepted the missing job ${jobId}`);

    const { view, lastEventSeq } = current;
    const { event } = decision;
    let stored: { seq: number; duplicate: boolean };
    try {
      stored = await jobs.appendIfUnchanged(event, action === "cancel" ? messageIds.cancelled(jobId) : messageIds.completed(jobId), lastEventSeq);
    } catch (err) {
      if (err instanceof JobChangedError) continue;
      if (err instanceof EventNotStoredError) throw notConfirmed(action, err);
      throw err;
    }
    // A duplicate is another request's ending with the same message id, stored after our
    // read: the job ended under us, and the next read answers as for any ended job.
    if (stored.duplicate) continue;
    const after = evolve(view, { seq: stored.seq, event });
    if (after === null) throw new Error(`job ${jobId} folded to nothing after its ${action}`);
    return after;
  }
  throw new ApiError("job_busy", `Job ${jobId} kept changing while the ${action} was applied; nothing was stored. Retry the request.`);
}

function notConfirmed(action: EndAction, cause: EventNotStoredError): ApiError {
  const detail =
    `The event log did not confirm the ${action}; it may or may not have been stored. ` +
    `GET the job to see, or retry (a retry answers 409 once the job has ended).`;
  const err = new ApiError("change_not_stored", detail);
  err.cause = cause;
  return err;
}
