import type { JobEvent } from "@jobs/core";
import type { GatewayMetrics } from "./gateway-metrics.ts";

/** What the tracker remembers of a job between its events: its type, and when its current attempt started. */
interface Tracked {
  /** The type, or its lookup in flight (a job first seen after its request). */
  type: string | Promise<string>;
  startedAt?: number;
}

export interface JobEventMetricsOptions {
  /** The type of a job whose request this gateway did not see (it ran before this process, or was evicted); null if unknown. */
  lookupType(jobId: string): Promise<string | null>;
  /** Jobs remembered at once; the oldest is forgotten first (its later events cost a lookup). */
  maxTracked?: number;
  onLookupError?(err: unknown, jobId: string): void;
}

/** Label of a job whose type could not be found. */
export const UNKNOWN_TYPE = "unknown";

/**
 * Turns the stream's events into the service-wide job metrics. Only JobRequested carries
 * the job type, so the tracker remembers each job's type from its request (or looks it
 * up once when it first meets a job mid-way) until the job finishes, and the start time
 * of its running attempt for the run-time histogram. Memory is bounded by `maxTracked`.
 * Events of one job must come in stream order (each subject's messages do).
 */
export class JobEventMetrics {
  private readonly jobs = new Map<string, Tracked>();
  private readonly maxTracked: number;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly opts: JobEventMetricsOptions,
  ) {
    this.maxTracked = opts.maxTracked ?? 50_000;
  }

  /** Jobs remembered now (for tests of the bound). */
  get size(): number {
    return this.jobs.size;
  }

  observe(event: JobEvent): void {
    const m = this.metrics;
    switch (event.type) {
      case "JobRequested":
        this.remember(event.jobId, { type: event.data.jobType });
        return;
      case "JobStarted": {
        const job = this.tracked(event.jobId);
        job.startedAt = Date.parse(event.time);
        return withType(job, (type) => m.jobsStarted.inc({ type }));
      }
      case "JobAttemptFailed": {
        const job = this.tracked(event.jobId);
        job.startedAt = undefined; // the retry's own JobStarted starts the clock again
        return withType(job, (type) => m.attemptsFailed.inc({ type }));
      }
      case "JobFinished": {
        const job = this.tracked(event.jobId);
        this.jobs.delete(event.jobId);
        const { startedAt } = job;
        const ranSeconds = startedAt === undefined ? undefined : Math.max(0, Date.parse(event.time) - startedAt) / 1000;
        return withType(job, (type) => {
          m.jobsFinished.inc({ type, outcome: event.data.outcome });
          if (ranSeconds !== undefined) m.runSeconds.observe({ type }, ranSeconds);
        });
      }
      case "JobProgress":
        return;
      default: {
        const unexpected: never = event;
        throw new Error(`unhandled event ${(unexpected as JobEvent).type}`);
      }
    }
  }

  private tracked(jobId: string): Tracked {
    const known = this.jobs.get(jobId);
    if (known !== undefined) return known;
    const type = this.opts.lookupType(jobId).then(
      (t) => t ?? UNKNOWN_TYPE,
      (err: unknown) => {
        this.opts.onLookupError?.(err, jobId);
        return UNKNOWN_TYPE;
      },
    );
    return this.remember(jobId, { type });
  }

  private remember(jobId: string, job: Tracked): Tracked {
    this.jobs.delete(jobId);
    // A Map iterates in insertion order: the first key is the job remembered longest ago.
    if (this.jobs.size >= this.maxTracked) this.jobs.delete(this.jobs.keys().next().value!);
    this.jobs.set(jobId, job);
    return job;
  }
}

function withType(job: Tracked, count: (type: string) => void): void {
  if (typeof job.type === "string") count(job.type);
  else void job.type.then(count);
}
