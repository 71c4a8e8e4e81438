import type { JobRequested } from "./events.ts";
import { DEFAULT_PRIORITY, type JobPriority } from "./job-priority.ts";

/**
 * Whether a request goes straight to the runners' consumer (the common path: a normal
 * job due at once costs the one message it always did) or is routed through the
 * dispatch stream, where it can wait on the server and be ordered by priority.
 */
export function isRouted(request: JobRequested): boolean {
  const { runAt, priority = DEFAULT_PRIORITY, startBy = null } = request.data;
  return priority !== DEFAULT_PRIORITY || runAt !== null || startBy !== null;
}

export function priorityOf(request: JobRequested): JobPriority {
  return request.data.priority ?? DEFAULT_PRIORITY;
}

/**
 * Where a routed request goes (pure; `now` passed in): its first attempt into its ready
 * queue now, or a schedule that dispatches it at its runAt; plus a schedule at its
 * startBy that ends it if it has not started by then. The runner that then takes it
 * decides again from the job's events (decideDelivery), so routing a request twice, or
 * a request whose job was cancelled meanwhile, dispatches nothing that runs twice.
 */
export interface Route {
  priority: JobPriority;
  /** Dispatch attempt 1 at this time (a schedule), or null: now. */
  waitUntil: Date | null;
  /** Set the expiry schedule at this time, or null: none. */
  expireAt: Date | null;
}

export function routeOf(request: JobRequested, now: Date): Route {
  const { runAt, startBy = null } = request.data;
  const at = runAt === null ? null : new Date(runAt);
  return {
    priority: priorityOf(request),
    waitUntil: at !== null && at.getTime() > now.getTime() ? at : null,
    expireAt: startBy === null ? null : new Date(startBy),
  };
}
