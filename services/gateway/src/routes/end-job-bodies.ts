import type { ExternalEnding, JobError } from "@jobs/core";
import { Type, type Static } from "typebox";
import { ApiError, type ValidationIssue } from "../http/errors.ts";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "../http/json-depth.ts";
import { describeIssues } from "../http/validation-issues.ts";

/** Bodies of `POST /job/{id}/cancel` and `POST /job/{id}/complete`, and what they turn into. */

export const CancelJobBody = Type.Object(
  {
    reason: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1000, description: "Why; becomes the message of the job's error (code `cancelled`)" }),
    ),
  },
  { additionalProperties: false, description: "Optional: the body may be empty or absent" },
);
export type CancelJobBody = Static<typeof CancelJobBody>;

/** Code of an outside failure's error when the outside system gave none. */
export const DEFAULT_EXTERNAL_ERROR_CODE = "external_error";

const ExternalError = Type.Union(
  [
    Type.String({ minLength: 1, description: `A message; the code is "${DEFAULT_EXTERNAL_ERROR_CODE}"` }),
    Type.Object(
      {
        code: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: DEFAULT_EXTERNAL_ERROR_CODE })),
        message: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
  ],
  { description: "The job failed: it ends `failed`, with no further attempt" },
);

export const CompleteJobBody = Type.Object(
  {
    result: Type.Optional(Type.Unknown({ description: "The job succeeded with this result (any JSON, null included)" })),
    error: Type.Optional(ExternalError),
  },
  { additionalProperties: false, description: "Exactly one of `result` or `error`" },
);
export type CompleteJobBody = Static<typeof CompleteJobBody>;

/**
 * The ending a schema-valid completion body asks for, or the validation ApiError (400)
 * naming the field when it sends both `result` and `error`, neither, or a result nested
 * too deep to store.
 */
export function toExternalEnding(body: CompleteJobBody): ExternalEnding {
  const hasResult = Object.hasOwn(body, "result");
  const hasError = Object.hasOwn(body, "error");
  if (hasResult && hasError) invalid({ path: "/body/error", message: "is not allowed together with result: send one of them" });
  if (hasError && body.error !== undefined) return { outcome: "failed", error: toJobError(body.error) };
  if (!hasResult) invalid({ path: "/body/result", message: "is required unless error is sent" });
  // Stored as JSON, which recurses: a hostile nesting must be a 400, not a stack overflow.
  if (jsonDepthExceeds(body.result, MAX_JSON_DEPTH)) {
    invalid({ path: "/body/result", message: `is nested deeper than ${MAX_JSON_DEPTH} levels` });
  }
  return { outcome: "succeeded", result: body.result };
}

function toJobError(error: NonNullable<CompleteJobBody["error"]>): JobError {
  if (typeof error === "string") return { code: DEFAULT_EXTERNAL_ERROR_CODE, message: error };
  return { code: error.code ?? DEFAULT_EXTERNAL_ERROR_CODE, message: error.message };
}

function invalid(issue: ValidationIssue): never {
  throw new ApiError("validation", describeIssues([issue]), { errors: [issue] });
}
