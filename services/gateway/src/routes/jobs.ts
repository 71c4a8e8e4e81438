import { evolve, isJobId, Job, toJob } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ApiError, problemResponses } from "../errors.ts";
import { CreateJobBody, toJobRequested } from "../job-request.ts";
import type { JobStore, JobTypes } from "../ports.ts";

export interface JobRoutesDeps {
  jobs: JobStore;
  types: JobTypes;
}

const JobIdParams = Type.Object({
  // No pattern here on purpose: a malformed id answers 404 like an unknown one, not 400.
  id: Type.String({ description: "Job id (26-character ULID); anything else is simply not found" }),
});

/** `/job` routes. Registered inside the authenticated scope: `request.appName` is set. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesDeps> = async (app, { jobs, types }) => {
  app.post(
    "/job",
    {
      schema: {
        summary: "Request a job",
        body: CreateJobBody,
        response: { 202: Job, ...problemResponses(400, 401, 413, 415, 500, 503) },
      },
    },
    async (request, reply) => {
      const event = toJobRequested(request.body, request.appName, types);
      // Answer only once the event is stored: a 202 means the job exists.
      const { seq } = await jobs.append(event, `${event.jobId}:requested`);
      const view = evolve(null, { seq, event });
      if (view === null) throw new Error("a JobRequested event folded to no view");
      request.log.info({ jobId: event.jobId, jobType: event.data.jobType, app: event.data.app, seq }, "job requested");
      return reply.code(202).header("location", `/job/${event.jobId}`).send(toJob(view));
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
      // Checked before any lookup: a malformed id never reaches a subject or key.
      const view = isJobId(id) ? await jobs.get(id) : null;
      // Another application's job gets the very same answer as a missing one: no existence leak.
      if (view === null || view.app !== request.appName) throw new ApiError("job_not_found", `No job ${id}`);
      return toJob(view);
    },
  );
};
