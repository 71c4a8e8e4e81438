import type { JobRequested } from "@jobs/core";
import { Compile } from "typebox/compile";
import { ApiError, PROBLEMS, problemBody, type Problem, type ValidationIssue } from "../http/errors.ts";
import { CreateJobBody, toJobRequested } from "./create-job-body.ts";
import type { JobTypes } from "../ports.ts";
import { describeIssues, toValidationIssues } from "../http/validation-issues.ts";

/**
 * The items of `POST /job/batch`, each checked exactly as `POST /job` checks its body
 * (the same schema, then the same toJobRequested), so a batch accepts and refuses what
 * single requests do. A refused item carries the problem it would have had alone, with
 * every path moved under the item: `/body/params/n` becomes `/body/jobs/3/params/n`.
 */
const checkBody = Compile(CreateJobBody);

export type CheckedItem = { ok: true; event: JobRequested } | { ok: false; status: number; error: Problem };

export interface BatchItemContext {
  /** The application of the request's token: it owns every job of the batch. */
  app: string;
  types: JobTypes;
  /** The body limit of POST /job: an item larger than that would have had a 413 alone. */
  maxItemBytes: number;
}

export function checkBatchItem(item: unknown, index: number, ctx: BatchItemContext): CheckedItem {
  const at = `/body/jobs/${index}`;
  if (!checkBody.Check(item)) {
    const errors = toValidationIssues(at, checkBody.Errors(item));
    return refused(new ApiError("validation", describeIssues(errors) || "The job does not match the schema", { errors }));
  }
  let event: JobRequested;
  try {
    event = toJobRequested(item, ctx.app, ctx.types);
  } catch (err) {
    if (err instanceof ApiError) return refused(relocate(err, at));
    throw err;
  }
  // Measured only now: the checks above bound how deep it nests, and serializing recurses.
  const bytes = Buffer.byteLength(JSON.stringify(item));
  if (bytes > ctx.maxItemBytes) {
    return refused(new ApiError("payload_too_large", `The job is ${bytes} bytes of JSON, over the limit of ${ctx.maxItemBytes} bytes of POST /job`));
  }
  return { ok: true, event };
}

function refused(err: ApiError): CheckedItem {
  return { ok: false, status: PROBLEMS[err.code].status, error: problemBody(err.code, err.detail, err.extras) };
}

/** The same problem with its `/body...` paths under the item (and a detail that names them, when it did). */
function relocate(err: ApiError, at: string): ApiError {
  const errors = err.extras.errors;
  if (errors === undefined) return err;
  const moved: ValidationIssue[] = errors.map((e) => ({ ...e, path: e.path.startsWith("/body") ? at + e.path.slice("/body".length) : e.path }));
  const detail = err.detail === describeIssues(errors) ? describeIssues(moved) : err.detail;
  return new ApiError(err.code, detail, { ...err.extras, errors: moved });
}
