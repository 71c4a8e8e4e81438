import { DEFAULT_PRIORITY, newJobId, PRIORITIES, type JobRequested } from "@jobs/core";
import { Type, type Static } from "typebox";
import { ApiError } from "../http/errors.ts";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "../http/json-depth.ts";
import { paramsIssues } from "../jobs/params-check.ts";
import type { JobTypes } from "../ports.ts";
import { describeIssues } from "../http/validation-issues.ts";

/** Defaults of the optional fields of `POST /job` (documented in the schema, applied in `toJobRequested`). */
export const JOB_DEFAULTS = { maxAttempts: 3, timeoutMs: 600_000 } as const;

export const CreateJobBody = Type.Object(
  {
    type: Type.String({ minLength: 1, description: "A job type from GET /job-types" }),
    params: Type.Optional(Type.Unknown({ description: "Any JSON, checked against the type's params schema", default: {} })),
    meta: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "Any JSON object; returned exactly as sent", default: {} }),
    ),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: JOB_DEFAULTS.maxAttempts })),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400_000, default: JOB_DEFAULTS.timeoutMs, description: "Time limit of one attempt" }),
    ),
    runAt: Type.Optional(Type.String({ format: "date-time", description: "Do not start before this time (ISO 8601)" })),
    priority: Type.Optional(
      Type.Enum(["high", "normal", "low"] satisfies typeof PRIORITIES, {
        default: DEFAULT_PRIORITY,
        description: "A runner with a free slot starts queued high jobs before normal ones, normal before low; oldest first within one",
      }),
    ),
    startBy: Type.Optional(
      Type.String({
        format: "date-time",
        description: "If not started by then (ISO 8601), the job ends cancelled with error code \"expired\"; not before runAt",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobBody>;

/** Longest accepted Idempotency-Key: room for any UUID or ULID scheme, bounded for the claim's hash and logs. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** The headers `POST /job` reads besides Authorization (other headers pass unchecked). */
export const CreateJobHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: "^[\\x20-\\x7E]*$", // printable ASCII; minLength reports the empty key
      description:
        "Printable ASCII, 1-255 characters, chosen by the client (a UUID, say). A repeated key with the same body " +
        "answers 200 with the first job instead of creating another; with another body it answers 422. Keys are " +
        "per application and remembered for IDEMPOTENCY_TTL_MS (24 h by default).",
    }),
  ),
});

/**
 * Turns a schema-valid `POST /job` body into the JobRequested event of a new job, or
 * throws the ApiError that explains why it cannot: an unknown type (listing the known
 * ones) or params that fail the type's schema. Nothing is stored here.
 */
export function toJobRequested(body: CreateJobBody, app: string, types: JobTypes, now: Date = new Date()): JobRequested {
  const tooDeep = (["params", "meta"] as const).filter((f) => jsonDepthExceeds(body[f], MAX_JSON_DEPTH));
  if (tooDeep.length > 0) {
    const errors = tooDeep.map((f) => ({ path: `/body/${f}`, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` }));
    throw new ApiError("validation", describeIssues(errors), { errors });
  }
  const descriptor = types.get(body.type);
  if (descriptor === undefined) throw unknownType(body.type, types);
  const params = body.params ?? {};
  const issues = paramsIssues(descriptor, params);
  if (issues.length > 0) throw new ApiError("invalid_params", describeIssues(issues), { errors: issues });

  const runAt = utcTime(body.runAt, "runAt");
  const startBy = utcTime(body.startBy, "startBy");
  if (runAt !== null && startBy !== null && startBy < runAt) {
    const errors = [{ path: "/body/startBy", message: `is before runAt (${runAt}): the job could never start` }];
    throw new ApiError("validation", describeIssues(errors), { errors });
  }

  return {
    type: "JobRequested",
    jobId: newJobId(now.getTime()),
    time: now.toISOString(),
    data: {
      app,
      jobType: descriptor.name,
      params,
      meta: body.meta ?? {},
      maxAttempts: body.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
      timeoutMs: body.timeoutMs ?? JOB_DEFAULTS.timeoutMs,
      runAt,
      priority: body.priority ?? DEFAULT_PRIORITY,
      startBy,
      scheduleId: null,
    },
  };
}

/** A time of the body in UTC, so every service compares it the same way (ISO strings of one form sort as times); null when absent. */
function utcTime(value: string | undefined, field: string): string | null {
  if (value === undefined) return null;
  const at = new Date(value);
  // The format check passes a few strings Date cannot represent (a leap second, year 0000 edge cases).
  if (Number.isNaN(at.getTime())) {
    const errors = [{ path: `/body/${field}`, message: "is not a representable date-time" }];
    throw new ApiError("validation", describeIssues(errors), { errors });
  }
  return at.toISOString();
}

function unknownType(type: string, types: JobTypes): ApiError {
  const known = types.list().map((d) => d.name);
  const listing = known.length > 0 ? `known types: ${known.join(", ")}` : "no job types are registered yet (is a runner running?)";
  return new ApiError("unknown_job_type", `Unknown job type "${type}"; ${listing}`, {
    errors: [{ path: "/body/type", message: `is not a known job type; ${listing}` }],
    knownTypes: known,
  });
}
