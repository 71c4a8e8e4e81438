import { createHash, timingSafeEqual } from "node:crypto";
import bearerAuth from "@fastify/bearer-auth";
import type { FastifyInstance } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** The application the bearer token belongs to; set by the auth hook before any handler runs. */
    appName: string;
  }
}

/**
 * Finds the application of a token without an early exit: every configured token is
 * compared (as SHA-256 digests, so lengths match) in constant time, so response time
 * does not tell how much of a guess was right.
 */
export function tokenLookup(tokens: ReadonlyMap<string, string>): (token: string) => string | undefined {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const entries = [...tokens].map(([token, app]) => ({ digest: digest(token), app }));
  return (token) => {
    const candidate = digest(token);
    let found: string | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, candidate) && found === undefined) found = e.app;
    return found;
  };
}

/**
 * Requires `Authorization: Bearer <token>` on every route of `scope` (call it inside the
 * scope of the routes it guards, so health stays public) and sets `request.appName`.
 * bearer-auth runs in its "no hook" mode: its failures become errors that the problem
 * handler renders (401 problem+json with WWW-Authenticate) instead of its own JSON.
 */
export async function requireBearerAuth(scope: FastifyInstance, tokens: ReadonlyMap<string, string>): Promise<void> {
  const appOf = tokenLookup(tokens);
  scope.decorateRequest("appName", "");
  await scope.register(bearerAuth, {
    keys: [],
    addHook: false,
    // RFC 6750 allows only "Bearer"; HTTP auth schemes are case-insensitive, so accept "bearer" too.
    specCompliance: "rfc6749",
    verifyErrorLogLevel: "debug",
    auth: (token, request) => {
      const app = appOf(token);
      if (app === undefined) return false;
      request.appName = app;
      return true;
    },
  });
  const verify = scope.verifyBearerAuth;
  if (!verify) throw new Error("@fastify/bearer-auth did not decorate verifyBearerAuth");
  scope.addHook("onRequest", verify);
}
