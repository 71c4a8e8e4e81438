/**
 * The error codes the service itself gives a job, in one catalogue (a job type's own
 * errors carry codes of their own, `error` when they have none). Clients match on these:
 * they are part of the contract, never renamed.
 */
export const JobErrorCodes = {
  /** Ended through `POST /job/{id}/cancel`. */
  cancelled: "cancelled",
  /** The attempt ran past the job's `timeoutMs` (retried while attempts are left). */
  timeout: "timeout",
  /** The params do not match the job type's schema as the runner knows it (never retried). */
  invalidParams: "invalid_params",
  /** The job type returned a result that cannot be stored (not JSON, over the size limit). */
  invalidResult: "invalid_result",
  /** A runner's graceful shutdown ended the attempt: it does not count against maxAttempts. */
  interrupted: "interrupted",
  /** Attempts ended without a result (their runners stopped) until none was left. */
  attemptsExhausted: "attempts_exhausted",
  /** Not started by its `startBy`: ended cancelled, whatever it was waiting for. */
  expired: "expired",
  /** A job type threw an error without a usable code of its own. */
  error: "error",
} as const;

export type JobErrorCode = (typeof JobErrorCodes)[keyof typeof JobErrorCodes];
