import type { Decision } from "./decision.ts";
import type { JobError, JobFinished, StoredEvent } from "./events.ts";
import { foldEvents } from "./evolve.ts";
import { JobErrorCodes } from "./job-errors.ts";
import { isFinal, type JobView } from "./job.ts";
import { messageIds } from "./message-ids.ts";

/**
 * The rules of ending a job from outside: a cancel, or the completion of a job that an
 * outside system does (type `external`). Given the job's events and the command, each
 * answers the one JobFinished to store or a refusal. No I/O, no clock: `now` is passed in.
 */

/** The job type an outside system does and reports through `POST /job/{id}/complete`. */
export const EXTERNAL_JOB_TYPE = "external";

/** Message of a cancel's error when the request gave no reason. */
export const DEFAULT_CANCEL_MESSAGE = "Cancelled on request";

export interface CancelJob {
  jobId: string;
  /** The application asking: another application's job is as good as missing. Null: an operator, who may end any. */
  app: string | null;
  reason?: string;
}

/** How the outside system says the job went: it succeeded with a result, or it failed (no retry). */
export type ExternalEnding = { outcome: "succeeded"; result: unknown } | { outcome: "failed"; error: JobError };

export interface CompleteJob {
  jobId: string;
  /** As for CancelJob. */
  app: string | null;
  ending: ExternalEnding;
}

/** Why an ending was refused; the codes are the gateway's problem codes of the same name. */
export interface EndingRefusal {
  code: "job_not_found" | "job_already_ended" | "job_not_running" | "not_an_external_job";
  detail: string;
}

export type EndingDecision = Decision<EndingRefusal, JobFinished>;

/** Any job that has not ended can be cancelled: queued (even between attempts) or running. */
export function decideCancel(events: readonly StoredEvent[], command: CancelJob, now: Date): EndingDecision {
  const view = foldEvents(events);
  if (view === null || !visibleTo(view, command.app)) return notFound(command.jobId);
  if (isFinal(view.status)) {
    return refuse("job_already_ended", `Job ${view.id} has already ended (${view.status}); there is nothing to cancel`);
  }
  const error = { code: JobErrorCodes.cancelled, message: command.reason ?? DEFAULT_CANCEL_MESSAGE };
  return finish(view, now, messageIds.cancelled(view.id), { outcome: "cancelled", error });
}

/**
 * Only an `external` job, and only while it runs (a runner has started the attempt the
 * outside system works on). A failure reported from outside ends the job `failed` at
 * once: the outside system has done its own retrying, so no further attempt follows.
 */
export function decideComplete(events: readonly StoredEvent[], command: CompleteJob, now: Date): EndingDecision {
  const view = foldEvents(events);
  if (view === null || !visibleTo(view, command.app)) return notFound(command.jobId);
  if (view.type !== EXTERNAL_JOB_TYPE) {
    return refuse(
      "not_an_external_job",
      `Job ${view.id} is of type "${view.type}": only jobs of type "${EXTERNAL_JOB_TYPE}" can be completed; runners end the others`,
    );
  }
  if (isFinal(view.status)) return refuse("job_already_ended", `Job ${view.id} has already ended (${view.status})`);
  if (view.status !== "running") {
    return refuse("job_not_running", `Job ${view.id} is ${view.status}: it can be completed once a runner has started it (status running)`);
  }
  return finish(view, now, messageIds.completed(view.id), command.ending);
}

function finish(view: JobView, now: Date, msgId: string, data: ExternalEnding | { outcome: "cancelled"; error: JobError }): EndingDecision {
  // The attempt under way (or the last one, 0 before any): the fold keeps attempts as they are.
  const event: JobFinished = { type: "JobFinished", jobId: view.id, time: now.toISOString(), data: { attempt: view.attempts, ...data } };
  return { append: { event, msgId } };
}

const visibleTo = (view: JobView, app: string | null) => app === null || view.app === app;

// The very answer GET gives for an unknown job: no hint that another application's job exists.
const notFound = (jobId: string): EndingDecision => refuse("job_not_found", `No job ${jobId}`);

const refuse = (code: EndingRefusal["code"], detail: string): EndingDecision => ({ reject: { code, detail } });
