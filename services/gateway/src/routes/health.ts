import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ApiError, problemResponses } from "../http/errors.ts";
import type { Readiness } from "../ports.ts";

/**
 * Public probes. `/healthz`: the process answers (liveness; never depends on NATS, so
 * an outage does not get the gateway restarted). `/readyz`: it can take jobs now.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ readiness: Readiness }> = async (app, { readiness }) => {
  app.get(
    "/healthz",
    { schema: { summary: "Liveness", response: { 200: Type.Object({ status: Type.Literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: NATS connected and the stream answering",
        response: { 200: Type.Object({ status: Type.Literal("ready") }), ...problemResponses(500, 503) },
      },
    },
    async (request) => {
      const { ready, reason } = await readiness.check().catch((err: unknown) => {
        request.log.warn({ err }, "readiness check failed");
        return { ready: false, reason: "readiness check failed" };
      });
      if (!ready) throw new ApiError("not_ready", reason ?? "not ready");
      return { status: "ready" as const };
    },
  );
};
