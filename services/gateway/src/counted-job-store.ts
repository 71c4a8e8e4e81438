import type { JobRequested } from "@jobs/core";
import type { JobStore } from "./ports.ts";

/**
 * The job store, telling `onCreated` about each job whose request event it newly stored
 * (a 202, not a repeat of a stored one): the one place every route that creates jobs
 * goes through, so jobs_requested_total counts POST /job and POST /job/batch alike.
 * Every other method is the store's own, forwarded as is, so the port can grow without
 * this file.
 */
export function countingCreatedJobs(jobs: JobStore, onCreated: (event: JobRequested) => void): JobStore {
  const append: JobStore["append"] = async (event, msgId) => {
    const result = await jobs.append(event, msgId);
    if (!result.duplicate) onCreated(event);
    return result;
  };
  const appendMany: JobStore["appendMany"] = async (requests) => {
    const results = await jobs.appendMany(requests);
    results.forEach((r, i) => r.stored && !r.duplicate && onCreated(requests[i]!.event));
    return results;
  };
  const own: Partial<JobStore> = { append, appendMany };
  return new Proxy(jobs, {
    get(target, key) {
      if (Object.hasOwn(own, key)) return own[key as keyof JobStore];
      const value: unknown = Reflect.get(target, key, target);
      // Bound to the store itself, so its methods see their own fields, never the proxy's.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
