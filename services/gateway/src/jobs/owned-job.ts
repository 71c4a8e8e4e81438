import { isJobId, type JobView, type StoredEvent } from "@jobs/core";
import { ApiError } from "../http/errors.ts";
import type { JobStore } from "../ports.ts";

/**
 * A job as the application asking may see it (`scope`: its name), or any job for an
 * operator (`scope` null). Another application's job gets the very same 404 as a
 * missing one (no existence leak), and a malformed id is never looked up: it never
 * reaches a subject or a key.
 */
export async function ownedJob(jobs: Pick<JobStore, "get">, id: string, scope: string | null): Promise<JobView> {
  const view = isJobId(id) ? await jobs.get(id) : null;
  if (view === null || !inScope(view.app, scope)) throw jobNotFound(id);
  return view;
}

const inScope = (app: string, scope: string | null) => scope === null || app === scope;

/** The job's events, owned as ownedJob says; ownership comes from its request event. */
export async function ownedHistory(jobs: Pick<JobStore, "history">, id: string, scope: string | null): Promise<StoredEvent[]> {
  const events = isJobId(id) ? await jobs.history(id) : [];
  const requested = events.find((e) => e.event.type === "JobRequested")?.event;
  if (requested?.type !== "JobRequested" || !inScope(requested.data.app, scope)) throw jobNotFound(id);
  return events;
}

const jobNotFound = (id: string) => new ApiError("job_not_found", `No job ${id}`);
