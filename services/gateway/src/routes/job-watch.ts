import { jobScope } from "../http/plugins/auth.ts";
import { Readable } from "node:stream";
import { isFinal } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply } from "fastify";
import { Type } from "typebox";
import { problemResponses } from "../http/errors.ts";
import { ownedJob } from "../jobs/owned-job.ts";
import { jobEventStream, SSE_HEADERS } from "../jobs/job-event-stream.ts";
import type { JobStore } from "../ports.ts";
import { JobIdParams } from "./jobs.ts";

export interface JobWatchRoutesDeps {
  jobs: JobStore;
  /** Interval of the `: ping` comments (default 15 s, under the usual 30-60 s proxy idle timeouts). */
  heartbeatMs?: number;
}

export const DEFAULT_WATCH_HEARTBEAT_MS = 15_000;

const WatchHeaders = Type.Object({
  "last-event-id": Type.Optional(
    Type.String({
      pattern: "^[0-9]{1,15}$",
      description: "Sent by an EventSource that reconnects: the `id` of the last message it got. Views up to it are not sent again.",
    }),
  ),
});

const EVENT_STREAM_DESCRIPTION =
  "A text/event-stream: one message per view of the job, `id: <seq>`, `event: job`, `data: <the job as GET /job/{id} returns it>`, " +
  "the first one at once; `: ping` comments every 15 s; the server closes the stream after a view with a final status " +
  "(succeeded, failed, cancelled). An EventSource should close itself on that view: a reconnect with its Last-Event-ID answers 204.";

/**
 * `GET /job/{id}/watch`: the job's view now and on every change, as server-sent events.
 * The 404 (unknown, malformed, another application's) is decided before any stream
 * starts. Open streams end when the server closes, so a shutdown never waits on a job.
 * Registered inside the authenticated scope: `request.appName` is set.
 */
export const jobWatchRoutes: FastifyPluginAsyncTypebox<JobWatchRoutesDeps> = async (app, { jobs, heartbeatMs }) => {
  const closing = new AbortController();
  app.addHook("preClose", async () => closing.abort());

  app.get(
    "/job/:id/watch",
    {
      schema: {
        summary: "Watch a job",
        description: EVENT_STREAM_DESCRIPTION,
        params: JobIdParams,
        headers: WatchHeaders,
        response: {
          200: { description: "The event stream", content: { "text/event-stream": { schema: Type.String() } } },
          204: Type.Null({ description: "The job has ended and Last-Event-ID says the client already has its last view" }),
          ...problemResponses(400, 401, 404, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const view = await ownedJob(jobs, id, jobScope(request));

      const after = Number(request.headers["last-event-id"] ?? 0);
      // 204 is what stops an EventSource from reconnecting (it would otherwise replay the final view forever).
      if (after >= view.seq && isFinal(view.status)) return reply.code(204).send(null);
      reply.headers(SSE_HEADERS);
      // A HEAD gets the headers a GET would get, without starting a watch.
      // (The typed reply only knows the JSON bodies of the schema; fastify sends a stream as it is.)
      const raw = reply as unknown as FastifyReply;
      if (request.method === "HEAD") return raw.send(Readable.from([]));

      request.log.debug({ jobId: id, seq: view.seq, after }, "job watch started");
      const stream = jobEventStream({
        first: view,
        after,
        updates: (signal) => jobs.watch(id, signal),
        heartbeatMs: heartbeatMs ?? DEFAULT_WATCH_HEARTBEAT_MS,
        onError: (err) => request.log.error({ err, jobId: id }, "job watch failed; the stream ends"),
        shutdown: closing.signal,
      });
      return raw.send(stream);
    },
  );
};
