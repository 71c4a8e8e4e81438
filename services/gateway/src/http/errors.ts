import { STATUS_CODES } from "node:http";
import { Type, type Static } from "typebox";

/**
 * The one error catalogue of the API: a stable string code per problem, with its HTTP
 * status and title. Every error response is an RFC 9457 problem whose `type` is
 * `/problems/<code>` (underscores as dashes), so clients can switch on `type` and
 * people can read `title` and `detail`.
 */
interface ProblemSpec {
  status: number;
  title: string;
  /** Sent as Retry-After (seconds) with the problem: the condition is expected to pass. */
  retryAfterSeconds?: number;
}

export const PROBLEMS = {
  validation: { status: 400, title: "The request does not match the schema" },
  malformed_json: { status: 400, title: "The body is not valid JSON" },
  unknown_job_type: { status: 400, title: "Unknown job type" },
  invalid_params: { status: 400, title: "The params do not match the job type" },
  unauthorized: { status: 401, title: "Authentication required" },
  operators_only: { status: 403, title: "Only an operator token may do this" },
  not_found: { status: 404, title: "Not found" },
  job_not_found: { status: 404, title: "Job not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  payload_too_large: { status: 413, title: "The body is too large" },
  unsupported_media_type: { status: 415, title: "The body must be JSON" },
  job_already_ended: { status: 409, title: "The job has already ended" },
  job_not_running: { status: 409, title: "The job is not running" },
  not_an_external_job: { status: 409, title: "Only external jobs can be completed" },
  idempotency_key_reused: { status: 422, title: "The Idempotency-Key was used with another body" },
  internal: { status: 500, title: "Internal server error" },
  event_not_stored: { status: 503, title: "The job could not be stored", retryAfterSeconds: 2 },
  store_unavailable: { status: 503, title: "The job store is unavailable", retryAfterSeconds: 2 },
  change_not_stored: { status: 503, title: "The change to the job could not be confirmed", retryAfterSeconds: 2 },
  job_busy: { status: 503, title: "The job kept changing while the request was applied", retryAfterSeconds: 1 },
  not_ready: { status: 503, title: "Not ready", retryAfterSeconds: 2 },
} as const satisfies Record<string, ProblemSpec>;

export type ProblemCode = keyof typeof PROBLEMS;

export const problemType = (code: ProblemCode): string => `/problems/${code.replaceAll("_", "-")}`;

export const ValidationIssue = Type.Object({
  path: Type.String({
    description:
      "JSON pointer of the bad field, prefixed with the part of the request it is in: /body/params/n, /body/type, /params/id, /querystring/limit",
  }),
  message: Type.String(),
});
export type ValidationIssue = Static<typeof ValidationIssue>;

/** The body of every error response (`application/problem+json`). */
export const Problem = Type.Object(
  {
    type: Type.String({ description: "URI reference naming the problem, e.g. /problems/validation" }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(ValidationIssue, { description: "One entry per bad field (validation problems)" })),
    knownTypes: Type.Optional(Type.Array(Type.String(), { description: "The job types that exist (unknown_job_type)" })),
  },
  { description: "RFC 9457 problem details" },
);
export type Problem = Static<typeof Problem>;

export interface ProblemExtras {
  errors?: ValidationIssue[];
  knownTypes?: string[];
  headers?: Record<string, string>;
}

/** An error a route throws on purpose; the error handler renders it from the catalogue. */
export class ApiError extends Error {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly extras: ProblemExtras;

  constructor(
    code: ProblemCode,
    detail: string,
    extras: ProblemExtras = {},
  ) {
    super(detail);
    this.code = code;
    this.detail = detail;
    this.extras = extras;
    this.name = "ApiError";
  }

  get status(): number {
    return PROBLEMS[this.code].status;
  }
}

export function problemBody(code: ProblemCode, detail: string, extras: ProblemExtras = {}): Problem {
  const { status, title } = PROBLEMS[code];
  const body: Problem = { type: problemType(code), title, status, detail };
  if (extras.errors) body.errors = extras.errors;
  if (extras.knownTypes) body.knownTypes = extras.knownTypes;
  return body;
}

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/** Headers every problem of a status carries (see plugins/problem.ts), for the OpenAPI document. */
const PROBLEM_HEADERS: Partial<Record<number, Record<string, { type: "string"; description: string }>>> = {
  401: { "www-authenticate": { type: "string", description: 'How to authenticate: `Bearer realm="jobs"`' } },
  503: { "retry-after": { type: "string", description: "Seconds to wait before retrying" } },
};

interface ProblemResponse {
  description: string;
  headers?: Record<string, { type: "string"; description: string }>;
  content: { [PROBLEM_MEDIA_TYPE]: { schema: typeof Problem } };
}

/**
 * Response schemas for the error statuses a route can answer, to spread into
 * `schema.response`: an RFC 9457 problem under its own media type (fastify picks the
 * serializer by the reply's content type, the OpenAPI document shows it), with the
 * headers that status always carries.
 */
export function problemResponses<S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  const response = (status: number): ProblemResponse => ({
    description: `${STATUS_CODES[status] ?? status}: a problem (RFC 9457)`,
    ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
    content: { [PROBLEM_MEDIA_TYPE]: { schema: Problem } },
  });
  return Object.fromEntries(statuses.map((s) => [s, response(s)])) as Record<S, ProblemResponse>;
}
