import { createHash, timingSafeEqual } from "node:crypto";
import bearerAuth from "@fastify/bearer-auth";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../errors.ts";

/** Who a token speaks for: one application, or an operator (every application). */
export type Principal = { kind: "application"; app: string } | { kind: "operator" };

/**
 * The application that owns the jobs an operator creates: not a name API_TOKENS can give
 * (those start with a letter or digit), so no application sees them as its own.
 */
export const OPERATOR_APP = "_operator";

declare module "fastify" {
  interface FastifyRequest {
    /** Who sent the request; set by the auth hook before any handler runs. */
    principal: Principal;
    /** The application the request acts as: the token's, or OPERATOR_APP for an operator (the owner of the jobs it creates). */
    appName: string;
  }
}

/**
 * Whose jobs a request may see and act on: the application's own, or (null) every
 * application's for an operator. Another application's job is as good as missing.
 */
export function jobScope(request: FastifyRequest): string | null {
  return request.principal.kind === "operator" ? null : request.principal.app;
}

/** Throws the 403 of an operator endpoint for an application token. */
export function requireOperator(request: FastifyRequest, what: string): void {
  if (request.principal.kind !== "operator") throw new ApiError("operators_only", `${what} needs an operator token (ADMIN_TOKENS)`);
}

/**
 * Finds who a token speaks for without an early exit: every configured token is compared
 * (as SHA-256 digests, so lengths match) in constant time, so response time does not tell
 * how much of a guess was right.
 */
export function tokenLookup(tokens: ReadonlyMap<string, string>, adminTokens: Iterable<string> = []): (token: string) => Principal | undefined {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const entries: { digest: Buffer; principal: Principal }[] = [
    ...[...tokens].map(([token, app]) => ({ digest: digest(token), principal: { kind: "application", app } as const })),
    ...[...adminTokens].map((token) => ({ digest: digest(token), principal: { kind: "operator" } as const })),
  ];
  return (token) => {
    const candidate = digest(token);
    let found: Principal | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, candidate) && found === undefined) found = e.principal;
    return found;
  };
}

/**
 * Requires `Authorization: Bearer <token>` on every route of `scope` (call it inside the
 * scope of the routes it guards, so health stays public) and sets `request.principal`
 * and `request.appName`. bearer-auth runs in its "no hook" mode: its failures become
 * errors that the problem handler renders (401 problem+json with WWW-Authenticate)
 * instead of its own JSON. No token is ever logged.
 */
export async function requireBearerAuth(scope: FastifyInstance, tokens: ReadonlyMap<string, string>, adminTokens: Iterable<string> = []): Promise<void> {
  const principalOf = tokenLookup(tokens, adminTokens);
  scope.decorateRequest("principal", null as never); // set by the hook before any handler reads it
  scope.decorateRequest("appName", "");
  await scope.register(bearerAuth, {
    keys: [],
    addHook: false,
    // RFC 6750 allows only "Bearer"; HTTP auth schemes are case-insensitive, so accept "bearer" too.
    specCompliance: "rfc6749",
    verifyErrorLogLevel: "debug",
    auth: (token, request) => {
      const principal = principalOf(token);
      if (principal === undefined) return false;
      request.principal = principal;
      request.appName = principal.kind === "operator" ? OPERATOR_APP : principal.app;
      return true;
    },
  });
  const verify = scope.verifyBearerAuth;
  if (!verify) throw new Error("@fastify/bearer-auth did not decorate verifyBearerAuth");
  scope.addHook("onRequest", verify);
}
