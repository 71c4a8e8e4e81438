import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { allowedMethods } from "./allowed-methods.ts";
import { ApiError, PROBLEMS, problemBody, type Problem, type ProblemCode, type ProblemExtras } from "../errors.ts";
import { EventNotStoredError, StoreUnavailableError } from "../../ports.ts";
import { describeIssues, toValidationIssues, type SchemaError } from "../validation-issues.ts";

/**
 * The one error handler and not-found handler of the API: whatever went wrong (a route's
 * ApiError, fastify's own parsing and validation errors, bearer-auth's 401, an adapter
 * failure, a bug) leaves as `application/problem+json`. 5xx responses never carry the
 * internal error text; it is logged with the request id instead.
 */
export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";
export const REALM = "jobs";

interface Rendered {
  problem: Problem;
  headers: Record<string, string>;
}

function render(code: ProblemCode, detail: string, extras: ProblemExtras = {}): Rendered {
  const headers: Record<string, string> = { ...extras.headers };
  const spec = PROBLEMS[code];
  if ("retryAfterSeconds" in spec) headers["retry-after"] = String(spec.retryAfterSeconds);
  return { problem: problemBody(code, detail, extras), headers };
}

/** Maps any error to its problem. Exported for the tests of the mapping itself. */
export function problemForError(err: unknown, request: FastifyRequest): Rendered {
  if (err instanceof ApiError) return render(err.code, err.detail, err.extras);
  if (err instanceof EventNotStoredError) {
    return render("event_not_stored", "The event log did not confirm the job; nothing was created. Retry the request.");
  }
  if (err instanceof StoreUnavailableError) return render("store_unavailable", "The job store cannot be read right now. Retry the request.");

  const e = err as Partial<FastifyError> & { validation?: SchemaError[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = toValidationIssues(`/${e.validationContext ?? "body"}`, e.validation);
    return render("validation", describeIssues(errors) || "The request does not match the schema", { errors });
  }
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return render("unsupported_media_type", `Content-Type ${request.headers["content-type"] ?? "(none)"} is not accepted; send application/json`);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return render("payload_too_large", `The body is over the limit of ${request.routeOptions.bodyLimit ?? "?"} bytes`);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return render("malformed_json", "The body is empty but Content-Type says application/json");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return render("malformed_json", "The body could not be parsed as JSON");
    case "FST_BEARER_AUTH_MISSING_AUTHORIZATION_HEADER":
      return render("unauthorized", "Send Authorization: Bearer <token>", {
        headers: { "www-authenticate": `Bearer realm="${REALM}"` },
      });
    case "FST_BEARER_AUTH_INVALID_AUTHORIZATION_HEADER":
      return render("unauthorized", "The bearer token is not valid", {
        headers: { "www-authenticate": `Bearer realm="${REALM}", error="invalid_token"` },
      });
  }
  const status = typeof e.statusCode === "number" ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Another client error raised by fastify (bad URL, bad Content-Length...): its message is safe to show.
    return {
      problem: { type: "about:blank", title: STATUS_CODES[status] ?? "Client error", status, detail: e.message ?? "" },
      headers: {},
    };
  }
  return render("internal", `The request failed; the error is logged with request id ${request.id}`);
}

export function sendProblem(reply: FastifyReply, { problem, headers }: Rendered): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Fastify's error handler (also used for `frameworkErrors`, which bypass it). */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const rendered = problemForError(err, request);
  if (rendered.problem.status >= 500) request.log.error({ err }, "request failed");
  else request.log.info({ status: rendered.problem.status, problem: rendered.problem.type }, rendered.problem.detail);
  return sendProblem(reply, rendered);
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    // A known path asked with a method it has no route for is a 405 (RFC 9110 §15.5.6), not a 404.
    const allow = allowedMethods(request.server, request.url);
    if (allow.length > 0 && !allow.includes(request.method)) {
      const detail = `${request.method} is not allowed on ${path}; use ${allow.join(", ")}`;
      return sendProblem(reply, render("method_not_allowed", detail, { headers: { allow: allow.join(", ") } }));
    }
    return sendProblem(reply, render("not_found", `No route for ${request.method} ${path}`));
  });
}
