import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from "fastify";
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { DebugRequestLog } from "./http/request-log.ts";
import { GatewayMetrics } from "./gateway-metrics.ts";
import { installHttpMetrics } from "./http/http-metrics.ts";
import { requireBearerAuth } from "./http/plugins/auth.ts";
import { optionsRoutes } from "./http/plugins/allowed-methods.ts";
import { documentBearerAuth, openApiDocs } from "./http/plugins/openapi.ts";
import { answerClientError, MAX_HEAD_BYTES } from "./http/client-error.ts";
import { drainRefusedBodies } from "./http/drain-refused-body.ts";
import { handleError, installProblemHandlers } from "./http/plugins/problem.ts";
import type { IdempotencyStore, JobStore, JobTypes, Readiness } from "./ports.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { jobTypeRoutes } from "./routes/job-types.ts";
import { jobEndingRoutes } from "./routes/job-endings.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { jobBatchRoutes } from "./routes/job-batch.ts";
import { jobListRoutes } from "./routes/job-list.ts";
import { jobHistoryRoutes } from "./routes/job-history.ts";
import { jobWatchRoutes } from "./routes/job-watch.ts";

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface AppDeps {
  jobs: JobStore;
  /** Idempotency-Key claims of POST /job. */
  idempotency: IdempotencyStore;
  types: JobTypes;
  readiness: Readiness;
  /** token -> application name */
  tokens: ReadonlyMap<string, string>;
  /** Operator tokens (ADMIN_TOKENS). */
  adminTokens?: Iterable<string>;
  logger?: FastifyBaseLogger;
  /** What GET /metrics serves (natsAppDeps adds the stream's job events and the runners' backlog); HTTP and created jobs only when absent. */
  metrics?: GatewayMetrics;
}

export interface AppOptions {
  /** Largest accepted body in bytes; NATS max_payload (1 MB) bounds it from above. */
  bodyLimit?: number;
  /** Interval of the `: ping` comments on GET /job/{id}/watch (default 15 s). */
  watchHeartbeatMs?: number;
}

export const DEFAULT_BODY_LIMIT = 512 * 1024;

/**
 * The gateway as a fastify app: plugins and routes, no listening (main.ts listens, tests
 * call `inject`; plugins load on `ready()`, which both do). Routes that need a token live in one scope with the auth hook; the
 * probes live outside it.
 */
export function buildApp(deps: AppDeps, opts: AppOptions = {}): App {
  const metrics = deps.metrics ?? new GatewayMetrics();
  // Every job a route creates (a 202) counts in jobs_requested_total, whichever route created it.
  const jobCreated = (jobType: string) => metrics.jobsRequested.inc({ type: jobType });
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    http: { maxHeaderSize: MAX_HEAD_BYTES },
    logController: new DebugRequestLog(),
    // While closing, requests still in flight keep being served (NATS drains after the app closes).
    return503OnClosing: false,
    // Bad URLs and the like bypass the error handler; route them through it so they are problems too.
    frameworkErrors: (err, request, reply) => void handleError(err, request, reply),
    // What Node's HTTP parser refuses before fastify sees it: a problem with Connection: close.
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as App;

  // TypeBox checks bodies as they are (no coercion, no silent removal of unknown fields, as Ajv's defaults would do).
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // Only JSON bodies: without the built-in text/plain parser, text answers 415 instead of a confusing 400.
  app.removeContentTypeParser("text/plain");
  installProblemHandlers(app);
  installHttpMetrics(app, metrics);
  drainRefusedBodies(app);

  // First: the document collects the routes registered after it. Public, like the probes.
  app.register(openApiDocs);
  app.register(optionsRoutes);
  app.register(healthRoutes, { readiness: deps.readiness });
  app.register(metricsRoutes, { metrics });
  app.register(async (authenticated) => {
    await requireBearerAuth(authenticated, deps.tokens, deps.adminTokens);
    documentBearerAuth(authenticated);
    await authenticated.register(jobRoutes, { jobs: deps.jobs, types: deps.types, idempotency: deps.idempotency, jobCreated });
    await authenticated.register(jobBatchRoutes, { jobs: deps.jobs, types: deps.types, jobCreated });
    await authenticated.register(jobListRoutes, { jobs: deps.jobs });
    await authenticated.register(jobEndingRoutes, { jobs: deps.jobs });
    await authenticated.register(jobTypeRoutes, { types: deps.types });
    await authenticated.register(jobHistoryRoutes, { jobs: deps.jobs });
    await authenticated.register(jobWatchRoutes, { jobs: deps.jobs, heartbeatMs: opts.watchHeartbeatMs });
  });
  return app;
}
