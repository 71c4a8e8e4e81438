import { jobScope } from "../http/plugins/auth.ts";
import { Job, toJob } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { problemResponses } from "../http/errors.ts";
import { ownedJob } from "../jobs/owned-job.ts";
import { bodyHash } from "../http/body-hash.ts";
import { createJob } from "../jobs/create-job.ts";
import { CreateJobBody, CreateJobHeaders, toJobRequested } from "./create-job-body.ts";
import type { IdempotencyStore, JobStore, JobTypes } from "../ports.ts";

export interface JobRoutesDeps {
  jobs: JobStore;
  types: JobTypes;
  idempotency: IdempotencyStore;
  /** Counts a job this route created (a 202): jobs_requested_total. */
  jobCreated: (jobType: string) => void;
}

export const JobIdParams = Type.Object({
  // No pattern here on purpose: a malformed id answers 404 like an unknown one, not 400.
  id: Type.String({ description: "Job id (26-character ULID); anything else is simply not found" }),
});

/** Documents the Location header of a created job (OpenAPI response headers). */
const JOB_LOCATION = { location: { type: "string", description: "The job's URL: /job/{id}" } } as const;

/** `/job` routes. Registered inside the authenticated scope: `request.appName` is set. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesDeps> = async (app, { jobs, types, idempotency, jobCreated }) => {
  app.post(
    "/job",
    {
      schema: {
        summary: "Request a job",
        headers: CreateJobHeaders,
        body: CreateJobBody,
        response: {
          202: { ...Job, description: "The job was created", headers: JOB_LOCATION },
          200: { ...Job, description: "An earlier request with this Idempotency-Key and body created the job; it is as it is now", headers: JOB_LOCATION },
          ...problemResponses(400, 401, 413, 415, 422, 500, 503),
        },
      },
    },
    async (request, reply) => {
      // Everything is checked before a key is claimed: a refused request claims nothing.
      const event = toJobRequested(request.body, request.appName, types);
      const key = request.headers["idempotency-key"];
      const { status, view } = await createJob(
        { jobs, idempotency },
        event,
        key === undefined ? undefined : { key, bodyHash: bodyHash(request.body) },
      );
      const fields = { jobId: view.id, jobType: view.type, app: view.app, seq: view.seq, idempotencyKey: key !== undefined };
      request.log.info(fields, status === 202 ? "job requested" : "job request repeated (Idempotency-Key)");
      if (status === 202) jobCreated(view.type);
      return reply.code(status).header("location", `/job/${view.id}`).send(toJob(view));
    },
  );

  app.get(
    "/job/:id",
    {
      schema: {
        summary: "Get a job",
        params: JobIdParams,
        response: { 200: Job, ...problemResponses(401, 404, 500, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      return toJob(await ownedJob(jobs, id, jobScope(request)));
    },
  );
};
