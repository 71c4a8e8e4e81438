import { jobScope } from "../http/plugins/auth.ts";
import { JobAttemptFailed, JobFinished, JobProgress, JobRequested, JobStarted, type StoredEvent } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type, type TObject, type TProperties } from "typebox";
import { problemResponses } from "../http/errors.ts";
import { ownedHistory } from "../jobs/owned-job.ts";
import type { JobStore } from "../ports.ts";
import { JobIdParams } from "./jobs.ts";

/** One event as the history shows it: the stored event without its job id, with its stream sequence. */
function historyItem<E extends TObject<TProperties>>(event: E) {
  const { type, time, data } = event.properties;
  return Type.Object({
    seq: Type.Integer({ minimum: 1, description: "Stream sequence of the event: increases along the history, unique across all jobs" }),
    type: type!,
    time: time!,
    data: data!,
  });
}

export const HistoryItem = Type.Union(
  [historyItem(JobRequested), historyItem(JobStarted), historyItem(JobProgress), historyItem(JobAttemptFailed), historyItem(JobFinished)],
  {
    description: "One event of the job: `type` says which, `data` holds its fields",
  },
);
export const JobHistory = Type.Object({ items: Type.Array(HistoryItem) }, { description: "The job's events, oldest first" });

export function toHistoryItem({ seq, event }: StoredEvent) {
  return { seq, type: event.type, time: event.time, data: event.data };
}

/**
 * `GET /job/{id}/events`: what happened to the job, event by event, read from the stream
 * (not the projected view, so it is complete even while the projector lags). Registered
 * inside the authenticated scope: `request.appName` is set.
 */
export const jobHistoryRoutes: FastifyPluginAsyncTypebox<{ jobs: JobStore }> = async (app, { jobs }) => {
  app.get(
    "/job/:id/events",
    {
      schema: {
        summary: "Get a job's history",
        description:
          "Every event of the job in the order the stream stored it: the request, each attempt's start, progress and failure, " +
          "and the end. Read from the event stream itself, so it is complete right after the job was requested.",
        params: JobIdParams,
        response: { 200: JobHistory, ...problemResponses(401, 404, 500, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const events = await ownedHistory(jobs, id, jobScope(request));
      return { items: events.map(toHistoryItem) };
    },
  );
};
