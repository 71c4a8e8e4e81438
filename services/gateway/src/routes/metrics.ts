import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { problemResponses } from "../http/errors.ts";
import type { GatewayMetrics } from "../gateway-metrics.ts";

/** `GET /metrics`: Prometheus text format. Public, like the probes (registered outside the authenticated scope). */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: GatewayMetrics }> = async (app, { metrics }) => {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics",
        description:
          "Jobs created by this gateway (jobs_requested_total), started, finished and retried jobs and their run times as the " +
          "projectors fold them (service-wide, since this gateway started), jobs waiting for a runner, HTTP requests by route and status, and the " +
          "Node.js process. Each metric's HELP text says what it counts.",
        response: {
          200: {
            description: "Prometheus text exposition format 0.0.4",
            content: { "text/plain": { schema: Type.String() } },
          },
          ...problemResponses(500),
        },
      },
    },
    async (_request, reply) => {
      const { contentType, text } = await metrics.exposition();
      return reply.type(contentType).send(text);
    },
  );
};
