import { foldEvents, type EndingDecision, type JobView, type StoredEvent } from "@jobs/core";
import { EventConflictError, handleCommand } from "@jobs/nats";
import { ApiError } from "../http/errors.ts";
import { EventNotStoredError, type JobStore } from "../ports.ts";

/** Reads and decisions one request makes before it gives up on a job that keeps changing. */
export const MAX_END_TRIES = 5;

/** What the request does, for its messages. */
export type EndAction = "cancel" | "complete";

/**
 * Ends a job with the event `decide` chooses (decideCancel, decideComplete), through the
 * one conditional append every command uses (handleCommand): stored only if no event of
 * the job was stored since the read it was decided on, decided again when one was (the
 * new decision may refuse, 409, where the first accepted). Two requests ending one job
 * share a message id, so a duplicate is the other request's ending: decided again too.
 * After MAX_END_TRIES lost races nothing is stored and the client is asked to retry
 * (503 job_busy, Retry-After).
 *
 * Resolves with the job as it is after the stored event; throws the ApiError of a
 * refusal, of a write that was not confirmed, or of the lost races.
 */
export async function endJob(
  jobs: JobStore,
  jobId: string,
  action: EndAction,
  decide: (events: readonly StoredEvent[]) => EndingDecision,
  maxTries = MAX_END_TRIES,
): Promise<JobView> {
  const result = await handle(jobs, jobId, action, decide, maxTries);
  if (result.kind === "rejected") throw new ApiError(result.rejection.code, result.rejection.detail);
  const view = foldEvents(result.state.events);
  if (view === null) throw new Error(`job ${jobId} folded to nothing after its ${action}`);
  return view;
}

async function handle(jobs: JobStore, jobId: string, action: EndAction, decide: (events: readonly StoredEvent[]) => EndingDecision, maxTries: number) {
  try {
    return await handleCommand(jobs, jobId, decide, {
      append: ({ event, msgId }, expectLastEventSeq) => jobs.appendIfUnchanged(event, msgId, expectLastEventSeq),
      maxTries,
      duplicateIsAnotherWriters: true,
    });
  } catch (err) {
    if (err instanceof EventConflictError) {
      throw new ApiError("job_busy", `Job ${jobId} kept changing while the ${action} was applied; nothing was stored. Retry the request.`);
    }
    if (err instanceof EventNotStoredError) throw notConfirmed(action, err);
    throw err;
  }
}

function notConfirmed(action: EndAction, cause: EventNotStoredError): ApiError {
  const detail =
    `The event log did not confirm the ${action}; it may or may not have been stored. ` +
    `GET the job to see, or retry (a retry answers 409 once the job has ended).`;
  const err = new ApiError("change_not_stored", detail);
  err.cause = cause;
  return err;
}
