import { evolve, Job, messageIds, toJob, type JobRequested } from "@jobs/core";
import { TypeBoxValidatorCompiler, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type, type Static } from "typebox";
import { checkBatchItem } from "./batch-items.ts";
import { ApiError, Problem, problemBody, problemResponses } from "../http/errors.ts";
import { CreateJobBody } from "./create-job-body.ts";
import type { AppendResult, JobStore, JobTypes } from "../ports.ts";

export const BATCH_MAX_JOBS = 1000;
/** A thousand jobs of a few KiB each; each job still has POST /job's own limit. */
export const BATCH_BODY_LIMIT = 8 * 1024 * 1024;

/** What the OpenAPI document shows: a list of POST /job bodies. */
const BatchBody = Type.Object(
  { jobs: Type.Array(CreateJobBody, { minItems: 1, maxItems: BATCH_MAX_JOBS, description: "Each item is a POST /job body" }) },
  { additionalProperties: false },
);
/** What the request is checked against: the list only. Items are checked one by one (batch-items.ts), so a bad one refuses only itself. */
const BatchEnvelope = Type.Object(
  { jobs: Type.Array(Type.Unknown(), { minItems: 1, maxItems: BATCH_MAX_JOBS }) },
  { additionalProperties: false },
);

const BatchHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      description:
        "Not supported here: answered with 400. A key names one job, and a batch answer is per job; to retry a batch, " +
        "send again only the items that answered 503 (the others were created or refused for good), or send jobs one " +
        "by one to POST /job with their own keys.",
    }),
  ),
});

const BatchItemResult = Type.Object({
  index: Type.Integer({ minimum: 0, description: "Position of the job in the request's `jobs`" }),
  status: Type.Integer({
    description:
      "The status this job would have had as its own POST /job: 202 created (`job` is set), 400 or 413 refused " +
      "(`error` says why; sending it again will not help), 503 not stored (`error`; send it again)",
  }),
  job: Type.Optional(Job),
  error: Type.Optional(Problem),
});
const BatchResult = Type.Object(
  { items: Type.Array(BatchItemResult, { description: "One result per job, in request order" }) },
  { description: "Each job's own result: bad jobs do not stop good ones" },
);
type BatchItemResult = Static<typeof BatchItemResult>;

export interface JobBatchRoutesDeps {
  jobs: JobStore;
  types: JobTypes;
  /** Counts a job this route created (a 202): jobs_requested_total. */
  jobCreated: (jobType: string) => void;
}

/** `POST /job/batch`. Registered inside the authenticated scope: `request.appName` is set. */
export const jobBatchRoutes: FastifyPluginAsyncTypebox<JobBatchRoutesDeps> = async (app, { jobs, types, jobCreated }) => {
  // POST /job's limit (the app's; fastify always fills it in, with its default if need be).
  const maxItemBytes = app.initialConfig.bodyLimit!;
  app.post(
    "/job/batch",
    {
      bodyLimit: BATCH_BODY_LIMIT,
      // The document shows BatchBody; the request is checked against BatchEnvelope (see above).
      validatorCompiler: (req) => TypeBoxValidatorCompiler(req.httpPart === "body" ? { ...req, schema: BatchEnvelope } : req),
      schema: {
        summary: "Request many jobs at once",
        description:
          `Up to ${BATCH_MAX_JOBS} jobs in one request (body up to ${BATCH_BODY_LIMIT / 1024 / 1024} MiB), each checked ` +
          "and stored as POST /job would: a 202 item is stored, like a 202 of POST /job. The answer is 207 with one " +
          "result per job, in order, whatever happened to each; 400 only when the body is not `{jobs: [...]}` at all.",
        headers: BatchHeaders,
        body: BatchBody,
        response: { 207: BatchResult, ...problemResponses(400, 401, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      if (request.headers["idempotency-key"] !== undefined) throw idempotencyKeyRefused();
      const items = request.body.jobs as unknown[]; // each still unchecked (BatchEnvelope)
      const checked = items.map((item, index) => checkBatchItem(item, index, { app: request.appName, types, maxItemBytes }));

      const valid = checked.flatMap((c, index) => (c.ok ? [{ index, event: c.event }] : []));
      const stored = valid.length === 0 ? [] : await jobs.appendMany(valid.map(({ event }) => ({ event, msgId: messageIds.requested(event.jobId) })));

      const results: BatchItemResult[] = checked.map((c, index) => (c.ok ? { index, status: 0 } : { index, status: c.status, error: c.error }));
      valid.forEach(({ index, event }, k) => (results[index] = storedResult(index, event, stored[k]!)));

      for (const { index, event } of valid) if (results[index]!.status === 202) jobCreated(event.data.jobType);
      const count = (status: number) => results.filter((r) => r.status === status).length;
      request.log.info({ jobs: items.length, created: count(202), notStored: count(503), refused: items.length - valid.length }, "job batch");
      return reply.code(207).send({ items: results });
    },
  );
};

function storedResult(index: number, event: JobRequested, result: AppendResult): BatchItemResult {
  if (!result.stored) {
    const detail = "The event log did not confirm this job; it was not created. Send it again.";
    return { index, status: 503, error: problemBody("event_not_stored", detail) };
  }
  const view = evolve(null, { seq: result.seq, event });
  if (view === null) throw new Error("a JobRequested event folded to no view");
  // Fresh ids never collide, so `duplicate` cannot happen here; either way the job is stored.
  return { index, status: 202, job: toJob(view) };
}

function idempotencyKeyRefused(): ApiError {
  const message = "is not supported on POST /job/batch: send again only the items that answered 503, or use POST /job with a key per job";
  const errors = [{ path: "/headers/idempotency-key", message }];
  return new ApiError("validation", `/headers/idempotency-key ${message}`, { errors });
}
