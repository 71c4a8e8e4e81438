import { Job, JobStatus, toJob } from "@jobs/core";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { requireOperator } from "../http/plugins/auth.ts";
import { Type } from "typebox";
import { ApiError, problemResponses } from "../http/errors.ts";
import { MAX_PAGES_PER_LIST } from "../jobs/job-listing.ts";
import { InvalidCursorError } from "../ports.ts";
import { decodeCursor, encodeCursor } from "../jobs/list-cursor.ts";
import type { JobStore } from "../ports.ts";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

export const ListJobsQuery = Type.Object(
  {
    status: Type.Optional({ ...JobStatus, description: "Only jobs in this status" }),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Only jobs of this type" })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT, description: `Most jobs in one page (1..${MAX_LIST_LIMIT})` }),
    ),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The `next` of the previous page, as it came" })),
    app: Type.Optional(
      Type.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$", description: "Operator tokens only: the application whose jobs to list (required for them)" }),
    ),
  },
  { additionalProperties: false },
);

export const JobList = Type.Object(
  {
    items: Type.Array(Job, { description: "The jobs, newest first" }),
    next: Type.Union([Type.String(), Type.Null()], {
      description: "Cursor of the next page (pass it as `cursor`); null when there is nothing more",
    }),
  },
  { description: "One page of the caller's jobs" },
);

/** `GET /job`. Registered inside the authenticated scope: `request.appName` is set. */
export const jobListRoutes: FastifyPluginAsyncTypebox<{ jobs: JobStore }> = async (app, { jobs }) => {
  app.get(
    "/job",
    {
      schema: {
        summary: "List jobs",
        description:
          "The caller's jobs, newest first (the order their requests were stored in), optionally only those of one `status` " +
          "and/or `type`. Pages follow `next` until it is null. A page may hold fewer than `limit` jobs and still have a `next`: " +
          `one request reads at most ${MAX_PAGES_PER_LIST} pages of the listing index, so with a filter that few jobs match, ` +
          "keep following `next`. The listing is kept by the projector: a job shows up in it (and its status changes there) " +
          "a moment after it is stored; GET /job/{id} sees it at once.",
        querystring: ListJobsQuery,
        response: { 200: JobList, ...problemResponses(400, 401, 403, 500, 503) },
      },
      preValidation: requireDecimalLimit,
    },
    async (request) => {
      const { status, type, limit = DEFAULT_LIST_LIMIT, cursor } = request.query;
      const from = cursor === undefined ? undefined : (decodeCursor(cursor) ?? badCursor("is not a cursor this API gave"));
      try {
        const page = await jobs.list({ app: listedApp(request, request.query.app), status, type, limit, from });
        return { items: page.items.map(toJob), next: page.next === null ? null : encodeCursor(page.next) };
      } catch (err) {
        if (err instanceof InvalidCursorError) badCursor("does not point into this listing");
        throw err;
      }
    },
  );
};

/**
 * The query's conversion to numbers is lenient (it reads "1.5" as 1 and "0x10" as 16);
 * a limit must be written as a plain decimal integer, checked before it is converted.
 */
async function requireDecimalLimit(request: { query: unknown }): Promise<void> {
  const raw = (request.query as Record<string, unknown> | undefined)?.limit;
  if (typeof raw === "string" && !/^[0-9]+$/.test(raw)) {
    const message = "must be an integer";
    throw new ApiError("validation", `/querystring/limit ${message}`, { errors: [{ path: "/querystring/limit", message }] });
  }
}

/**
 * Whose jobs a listing reads: an application's own; for an operator, the application it
 * names with `app`. A listing of every application at once is not kept yet: an operator
 * without `app` is told so.
 */
function listedApp(request: FastifyRequest, app: string | undefined): string {
  if (app !== undefined) {
    if (request.principal.kind === "application" && app === request.principal.app) return app;
    requireOperator(request, "Listing another application's jobs (app=)");
    return app;
  }
  if (request.principal.kind === "operator") {
    const message = "is required with an operator token: name the application whose jobs to list";
    throw new ApiError("validation", `/querystring/app ${message}`, { errors: [{ path: "/querystring/app", message }] });
  }
  return request.appName;
}

function badCursor(message: string): never {
  throw new ApiError("validation", `/querystring/cursor ${message}`, { errors: [{ path: "/querystring/cursor", message }] });
}
