import { evolve, messageIds, type JobRequested, type JobView } from "@jobs/core";
import { ApiError } from "../http/errors.ts";
import type { IdempotencyStore, JobStore } from "../ports.ts";

export interface CreateJobDeps {
  jobs: JobStore;
  idempotency: IdempotencyStore;
}

export interface CreatedJob {
  /**
   * 202 for the one request whose append stored the job's request event; 200 for every
   * other request that names the same job through its Idempotency-Key.
   */
  status: 200 | 202;
  view: JobView;
}

/**
 * Creates the job of a validated request, honouring an Idempotency-Key:
 * - no key: store the event, 202;
 * - a new key: claim it with this event, then store the event, 202;
 * - a known key with another body: 422, nothing stored;
 * - a known key with the same body: the first request's job, 200. When that job is not in
 *   the log (the first request claimed the key, then its append failed or it crashed,
 *   or it is still appending), the first request's own event is stored now under the
 *   first's message id: the stream's duplicate window keeps a concurrent double append
 *   to one event, and whichever append stored it answers 202.
 * The key stays claimed when an append fails (503): a retry with the same key and body
 * then completes that very job instead of creating another.
 */
export async function createJob(
  deps: CreateJobDeps,
  event: JobRequested,
  idempotency?: { key: string; bodyHash: string },
): Promise<CreatedJob> {
  if (idempotency === undefined) return store(deps.jobs, event);

  const claim = await deps.idempotency.claim(event.data.app, idempotency.key, { bodyHash: idempotency.bodyHash, request: event });
  if (claim.status === "claimed") return store(deps.jobs, event);
  if (claim.bodyHash !== idempotency.bodyHash) {
    throw new ApiError(
      "idempotency_key_reused",
      "This Idempotency-Key was first sent with another body; nothing was created. Send a new key for a new job.",
    );
  }
  const first = claim.request;
  if (first.data.app !== event.data.app) throw new Error(`idempotency claim of app ${event.data.app} holds a job of ${first.data.app}`);
  const view = await deps.jobs.get(first.jobId);
  return view !== null ? { status: 200, view } : store(deps.jobs, first);
}


async function store(jobs: JobStore, event: JobRequested): Promise<CreatedJob> {
  // Answer only once the event is stored: a 202 means the job exists.
  const { seq, duplicate } = await jobs.append(event, messageIds.requested(event.jobId));
  const view = evolve(null, { seq, event });
  if (view === null) throw new Error("a JobRequested event folded to no view");
  return { status: duplicate ? 200 : 202, view };
}
