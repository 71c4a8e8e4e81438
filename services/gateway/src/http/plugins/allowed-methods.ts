import type { FastifyInstance, FastifyRequest, HTTPMethods } from "fastify";
import { Type } from "typebox";
import { ApiError, problemResponses } from "../errors.ts";

/**
 * RFC 9110 method semantics fastify leaves out: which methods a URL supports (`Allow`),
 * `OPTIONS` on any known path (204 + Allow), and — through the not-found handler —
 * `405 Method Not Allowed` + Allow for a known path asked with another method.
 * The answer comes from the router itself, so it can never disagree with the routes.
 */

/** Every method a route here could use; OPTIONS is answered for any known path, below. */
const METHODS: readonly HTTPMethods[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** The methods some route answers at this concrete URL, OPTIONS included; empty for an unknown path. */
export function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split("?", 1)[0] ?? "";
  // findRoute is typed non-null but answers null when nothing matches.
  const found = METHODS.filter((method) => (app.findRoute({ method, url: path }) as unknown) !== null);
  return found.length === 0 ? [] : [...found, "OPTIONS"];
}

/** `OPTIONS *` (asterisk-form, RFC 9110 §9.3.7) asks about the server as a whole; the router never matches it. */
export function isServerWideOptions(request: FastifyRequest): boolean {
  return request.method === "OPTIONS" && request.url === "*";
}

/**
 * `OPTIONS <any path>`: 204 with Allow for a known path (RFC 9110 §9.3.7), 404 for an
 * unknown one. Public, like the 405 that carries the same list: what the routes accept
 * is no secret (the OpenAPI document is public too). Not in the document: it is the same
 * for every path.
 */
export async function optionsRoutes(app: FastifyInstance): Promise<void> {
  app.options(
    "*",
    {
      schema: {
        hide: true,
        response: {
          204: Type.Null({ description: "Allow lists the methods of the path" }),
          ...problemResponses(404, 500),
        },
      },
    },
    async (request, reply) => {
      if (isServerWideOptions(request)) return reply.code(204).send();
      const allow = allowedMethods(app, request.url);
      if (allow.length === 0) throw new ApiError("not_found", `No route for OPTIONS ${request.url.split("?", 1)[0]}`);
      return reply.code(204).header("allow", allow.join(", ")).send();
    },
  );
}
