import type { FastifyInstance } from "fastify";
import type { GatewayMetrics } from "../gateway-metrics.ts";

/**
 * Counts and times every answer of the app, labelled with the route's pattern
 * (`/job/:id`, never the URL itself, which would make a label value per job) or
 * `unmatched` when no route matched (404, 405). Install it on the root before the
 * routes are registered, so every route inherits the hook.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpSeconds.observe(labels, reply.elapsedTime / 1000);
  });
}
