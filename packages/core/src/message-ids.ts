/**
 * The message id of every event a service stores (`Nats-Msg-Id`). The stream drops a
 * second publish with the same id within its duplicate window, so these ids decide what
 * a retried publish means: one request per job (whoever republishes it: a batch, an
 * Idempotency-Key retry), one start per attempt, one ending per writer. They live here,
 * beside the subject names, so that no two services can drift apart on them.
 */
export const messageIds = {
  requested: (jobId: string) => `${jobId}:requested`,
  /** With the delivery that started it: two copies of a dispatch that race must not both take the start as their own. */
  started: (jobId: string, attempt: number, source?: string) => `${jobId}:started:${attempt}${source === undefined ? "" : `:${source}`}`,
  progress: (jobId: string, attempt: number, n: number) => `${jobId}:progress:${attempt}:${n}`,
  attemptFailed: (jobId: string, attempt: number) => `${jobId}:failed:${attempt}`,
  /** The runner's own ending (success or failure) of the job. */
  finished: (jobId: string) => `${jobId}:finished`,
  /** Endings stored through the gateway: distinct from the runner's, so neither is mistaken for a retry of the other. */
  cancelled: (jobId: string) => `${jobId}:cancel`,
  completed: (jobId: string) => `${jobId}:complete`,
  /** The ending of a job not started by its startBy. */
  expired: (jobId: string) => `${jobId}:expired`,
  /** A dispatch into a ready queue (dispatch stream), by its token. */
  ready: (jobId: string, token: string) => `${jobId}:ready:${token}`,

} as const;
