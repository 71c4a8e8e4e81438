import { jobScope } from "../http/plugins/auth.ts";
import { decideCancel, decideComplete, Job, toJob } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { CancelJobBody, CompleteJobBody, toExternalEnding } from "./end-job-bodies.ts";
import { endJob } from "../jobs/end-job.ts";
import { problemResponses } from "../http/errors.ts";
import type { JobStore } from "../ports.ts";
import { JobIdParams } from "./jobs.ts";

export interface JobEndingRoutesDeps {
  jobs: JobStore;
}

const CANCEL_SCHEMA = {
  summary: "Cancel a job",
  description:
    "Ends a queued or running job as `cancelled` (error code `cancelled`). A runner working on it stops the attempt; " +
    "a queued job never starts. A job that has already ended answers 409 and is left as it is.",
  params: JobIdParams,
  body: CancelJobBody,
  response: {
    202: { ...Job, description: "The job was cancelled; it is as it is after the cancel" },
    ...problemResponses(400, 401, 404, 409, 413, 415, 500, 503),
  },
};

const COMPLETE_SCHEMA = {
  summary: "Complete an external job",
  description:
    'Reports the end of a job of type "external", done by an outside system, while it is running: `{"result": ...}` ' +
    'ends it `succeeded` with that result; `{"error": "message"}` or `{"error": {"code"?, "message"}}` ends it ' +
    "`failed` at once, with no further attempt. 409 when the job is not running or is not an external job.",
  params: JobIdParams,
  body: CompleteJobBody,
  response: {
    200: { ...Job, description: "The job as it is after the completion" },
    ...problemResponses(400, 401, 404, 409, 413, 415, 500, 503),
  },
};

/**
 * `POST /job/{id}/cancel` and `POST /job/{id}/complete`. Registered inside the
 * authenticated scope (`request.appName` is set). Both store one conditional JobFinished
 * (see end-job.ts); a runner working on the job hears it and stops.
 */
export const jobEndingRoutes: FastifyPluginAsyncTypebox<JobEndingRoutesDeps> = async (app, { jobs }) => {
  // A cancel needs no body, and clients often send none, or an empty one with a JSON
  // Content-Type: both mean `{}` here (in this scope only; elsewhere an empty JSON body is a 400).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) =>
    body === "" ? done(null, undefined) : parseJson(request, body as string, done),
  );

  app.post(
    "/job/:id/cancel",
    {
      schema: CANCEL_SCHEMA,
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const command = { jobId: id, app: jobScope(request), reason: request.body.reason };
      const view = await endJob(jobs, id, "cancel", (events) => decideCancel(events, command, new Date()));
      request.log.info({ jobId: id, app: view.app, seq: view.seq }, "job cancelled");
      return reply.code(202).send(toJob(view));
    },
  );

  app.post(
    "/job/:id/complete",
    { schema: COMPLETE_SCHEMA },
    async (request) => {
      const { id } = request.params;
      // Checked before any lookup: a bad body stores nothing and reads nothing.
      const command = { jobId: id, app: jobScope(request), ending: toExternalEnding(request.body) };
      const view = await endJob(jobs, id, "complete", (events) => decideComplete(events, command, new Date()));
      request.log.info({ jobId: id, app: view.app, seq: view.seq, status: view.status }, "external job completed");
      return toJob(view);
    },
  );
};
