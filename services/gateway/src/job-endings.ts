import { isFinal, type JobError, type JobFinished, type JobView } from "@jobs/core";
import type { ProblemCode } from "./errors.ts";

/**
 * The pure rules of ending a job from outside: a cancel, or the completion of a job
 * that an outside system does (type `external`). Each decide function gets the job as
 * folded from its events (null when it does not exist) and returns either the one
 * JobFinished to store or a refusal naming the problem. No I/O, no clock: `now` is
 * passed in, so the same inputs always give the same answer.
 */

/** The job type an outside system does and reports through `POST /job/{id}/complete`. */
export const EXTERNAL_JOB_TYPE = "external";

/** Message of a cancel's error when the request gave no reason. */
export const DEFAULT_CANCEL_MESSAGE = "Cancelled on request";

export interface CancelJob {
  jobId: string;
  /** The application asking: another application's job is as good as missing. */
  app: string;
  reason?: string;
}

/** How the outside system says the job went: it succeeded with a result, or it failed (no retry). */
export type ExternalEnding = { outcome: "succeeded"; result: unknown } | { outcome: "failed"; error: JobError };

export interface CompleteJob {
  jobId: string;
  app: string;
  ending: ExternalEnding;
}

export interface Refusal {
  code: Extract<ProblemCode, "job_not_found" | "job_already_ended" | "job_not_running" | "not_an_external_job">;
  detail: string;
}

export type Decision = { event: JobFinished } | { refusal: Refusal };

/** Any job that has not ended can be cancelled: queued (even between attempts) or running. */
export function decideCancel(view: JobView | null, command: CancelJob, now: Date): Decision {
  if (view === null || view.app !== command.app) return notFound(command.jobId);
  if (isFinal(view.status)) {
    return refuse("job_already_ended", `Job ${view.id} has already ended (${view.status}); there is nothing to cancel`);
  }
  const error = { code: "cancelled", message: command.reason ?? DEFAULT_CANCEL_MESSAGE };
  return finish(view, now, { outcome: "cancelled", error });
}

/**
 * Only an `external` job, and only while it runs (a runner has started the attempt the
 * outside system works on). A failure reported from outside ends the job `failed` at
 * once: the outside system has done its own retrying, so no further attempt follows.
 */
export function decideComplete(view: JobView | null, command: CompleteJob, now: Date): Decision {
  if (view === null || view.app !== command.app) return notFound(command.jobId);
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
  return finish(view, now, command.ending);
}

function finish(view: JobView, now: Date, data: ExternalEnding | { outcome: "cancelled"; error: JobError }): Decision {
  // The attempt under way (or the last one, 0 before any): the fold keeps attempts as they are.
  return { event: { type: "JobFinished", jobId: view.id, time: now.toISOString(), data: { attempt: view.attempts, ...data } } };
}

// The very answer GET gives for an unknown job: no hint that another application's job exists.
const notFound = (jobId: string): Decision => refuse("job_not_found", `No job ${jobId}`);

const refuse = (code: Refusal["code"], detail: string): Decision => ({ refusal: { code, detail } });
