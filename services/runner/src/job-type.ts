import type { Static, TSchema } from "typebox";
import type { Logger } from "pino";

/**
 * The one shape of a job type: `{ name, description, params, run(params, ctx) }`
 * (graphile-worker's task, BullMQ's processor, Temporal's activity). `run` awaits all
 * of its work and returns the job's result (plain JSON); a throw fails the attempt.
 */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first attempt, counting every attempt that started (also ones a crash ended). */
  readonly attempt: number;
  /**
   * Aborts on timeout, cancellation and runner shutdown. The runner stops waiting for
   * `run` at that moment, so a type that ignores it only wastes work, but long loops
   * should check it and stop.
   */
  readonly signal: AbortSignal;
  /** Reports progress (0..100); throttled and never lowered by the runner. */
  progress(percent: number, message?: string): void;
  /** A pino child logger carrying jobId, jobType and attempt. */
  readonly log: Logger;
  /**
   * Runs `module[exportName](...args)` in a worker thread, so CPU-bound work neither
   * blocks the runner (heartbeats, other jobs) nor survives an abort: the worker is
   * terminated when `signal` fires. `moduleUrl` is usually `import.meta.url`.
   */
  runInWorker<T>(moduleUrl: string, exportName: string, args: unknown[]): Promise<T>;
}

export interface JobTypeDefinition<S extends TSchema = TSchema> {
  /** Lower-case name clients use as `type` (`^[a-z][a-z0-9_-]{0,63}$`). */
  name: string;
  description: string;
  /** TypeBox schema of the params; announced as plain JSON Schema, checked before each attempt. */
  params: S;
  /** Registered only when RUNNER_TEST_JOBS=1 (fault-injection types such as `flaky`). */
  testOnly?: boolean;
  run(params: Static<S>, ctx: JobContext): Promise<unknown> | unknown;
}

export interface JobType extends JobTypeDefinition {
  readonly [JOB_TYPE]: true;
}

const JOB_TYPE = Symbol.for("jobs.runner.jobType");
const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

export function defineJobType<S extends TSchema>(definition: JobTypeDefinition<S>): JobType {
  if (!NAME_PATTERN.test(definition.name)) throw new Error(`invalid job type name "${definition.name}"`);
  return { ...(definition as unknown as JobTypeDefinition), [JOB_TYPE]: true };
}

export function isJobType(value: unknown): value is JobType {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[JOB_TYPE] === true;
}

/**
 * Thrown by a job type when retrying cannot help (bad input found late, a permanent
 * refusal): the job fails at once, whatever attempts are left. `code` becomes the
 * job's `error.code`.
 */
export class NonRetryableError extends Error {
  readonly code: string;

  constructor(message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "NonRetryableError";
    this.code = opts.code ?? "error";
  }
}
