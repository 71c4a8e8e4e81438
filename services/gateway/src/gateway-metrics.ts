import type { JobMetricsDelta } from "@jobs/core";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface GatewayMetricsOptions {
  /**
   * Node.js process metrics (CPU, memory, event loop lag, GC) under their usual names.
   * On in the service; off by default because each registry starts its own monitors,
   * which the many apps of a test run do not need.
   */
  processMetrics?: boolean;
  /**
   * Jobs waiting for a runner now (see nats/deps.ts); asked at scrape time, so it should
   * be cached and bounded in time (cachedReading), and NaN when it cannot be read.
   * Without it, jobs_waiting is not exported.
   */
  waitingJobs?: () => Promise<number>;
}

/** Run times from a no-op job to an hour-long one. */
const RUN_SECONDS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
const HTTP_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The gateway's Prometheus metrics, in a registry of their own (an app per test, no
 * global state). Served at GET /metrics. Two scopes, said in each HELP text:
 * - this gateway: jobs_requested_total and jobs_http_*, what this process did itself
 *   (sum them over gateways);
 * - the whole service: jobs_started_total, jobs_finished_total, jobs_attempts_failed_total,
 *   jobs_run_duration_seconds (what the projectors folded since this gateway started:
 *   every gateway hears every projector's counts, so take one gateway's, or max() over
 *   gateways, never sum()) and jobs_waiting.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly jobsRequested = new Counter({
    name: "jobs_requested_total",
    help: "Jobs this gateway created (202: the request event is stored), by job type; POST /job and POST /job/batch.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly jobsStarted = new Counter({
    name: "jobs_started_total",
    help: "Attempts started by runners, as the projectors' views show them, by job type. Service-wide: do not sum over gateways.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly jobsFinished = new Counter({
    name: "jobs_finished_total",
    help: "Jobs that reached a final status in the projectors' views, by job type and outcome (succeeded, failed, cancelled). Service-wide: do not sum over gateways.",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });

  readonly attemptsFailed = new Counter({
    name: "jobs_attempts_failed_total",
    help: "Attempts that ended without ending their job (failed and retried, interrupted by a runner's shutdown, or lost with a crashed runner), by job type. Service-wide: do not sum over gateways.",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });

  readonly runSeconds = new Histogram({
    name: "jobs_run_duration_seconds",
    help: "Run time of a job's last attempt, from its JobStarted to its JobFinished (event times), by job type, for jobs that succeeded or failed after starting an attempt. Service-wide.",
    labelNames: ["type"] as const,
    buckets: RUN_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: "jobs_http_requests_total",
    help: "HTTP requests this gateway answered, by method, route pattern (e.g. /job/:id; 'unmatched' when no route matched) and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpSeconds = new Histogram({
    name: "jobs_http_request_duration_seconds",
    help: "Time from receiving an HTTP request to having sent its answer, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: HTTP_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  constructor(opts: GatewayMetricsOptions = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    const { waitingJobs } = opts;
    if (waitingJobs !== undefined) {
      new Gauge({
        name: "jobs_waiting",
        help:
          "Jobs due and not finished with: on the runners' consumers (the event stream's requests and the dispatch stream's " +
          "ready queues) and the routing consumer, not yet delivered (num_pending) plus delivered and not yet acknowledged " +
          "(num_ack_pending: running). Jobs waiting on the server for their runAt or a retry are not counted until due. " +
          "Read at scrape time, at most once a second; NaN when JetStream does not answer.",
        registers: [this.registry],
        async collect() {
          this.set(await waitingJobs());
        },
      });
    }
  }

  /** Adds what a projector folded in one flush (see JobMetricsDelta). */
  addFolded(delta: JobMetricsDelta): void {
    for (const [type, n] of Object.entries(delta.started)) this.jobsStarted.inc({ type }, n);
    for (const [type, n] of Object.entries(delta.attemptsFailed)) this.attemptsFailed.inc({ type }, n);
    for (const [type, outcomes] of Object.entries(delta.finished)) {
      for (const [outcome, n] of Object.entries(outcomes)) this.jobsFinished.inc({ type, outcome }, n);
    }
    for (const [type, runs] of Object.entries(delta.runSeconds)) for (const seconds of runs) this.runSeconds.observe({ type }, seconds);
  }

  /** The exposition text for GET /metrics, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
