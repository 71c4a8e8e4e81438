import { parseJson } from "@jobs/core";
import type { FuzzRequest } from "./requests.ts";
import type { FuzzResponse } from "./send.ts";

/**
 * The contract's promises about any answer, whatever was asked: never a 5xx; every
 * 4xx is an RFC 9457 problem (`application/problem+json` with type, title, status equal
 * to the HTTP status, and detail), a 401 names its scheme in WWW-Authenticate; a 2xx to
 * `POST /job` is a 202 (or a 200 for a repeated Idempotency-Key) with the Location of
 * the job it returns. Returns what is wrong (empty: nothing), and the id of an accepted job.
 */
export interface Verdict {
  violations: string[];
  acceptedId?: string;
}

export function checkResponse(req: Pick<FuzzRequest, "method" | "path" | "headers">, res: FuzzResponse): Verdict {
  const violations: string[] = [];
  const { status } = res;
  if (status >= 500) violations.push(`${status}: a server error`);
  if (status >= 400 && status < 500) violations.push(...problemViolations(req.method, res));
  if (status === 401 && !String(res.headers["www-authenticate"] ?? "").startsWith("Bearer")) {
    violations.push("401 without WWW-Authenticate: Bearer");
  }
  if (req.method === "POST" && pathOf(req.path) === "/job" && status >= 200 && status < 300) {
    const { violations: created, id } = creationViolations(req, res);
    violations.push(...created);
    return { violations, acceptedId: id };
  }
  return { violations };
}

function problemViolations(method: string, res: FuzzResponse): string[] {
  const out: string[] = [];
  const contentType = String(res.headers["content-type"] ?? "");
  // One line for an answer that is not a problem at all; the field checks below are for near misses.
  if (!contentType.startsWith("application/problem+json")) return [`${res.status} with content-type "${contentType}", not application/problem+json`];
  if (method === "HEAD") return out; // no body to check
  const problem = parseJson(res.body) as Record<string, unknown> | null | undefined;
  if (problem === undefined) return [`${res.status} body is not JSON: ${res.body.toString("utf8").slice(0, 200)}`];
  for (const field of ["type", "title", "detail"]) {
    if (typeof problem?.[field] !== "string") out.push(`${res.status} problem has no string "${field}"`);
  }
  if (problem?.status !== res.status) out.push(`problem status ${String(problem?.status)} != HTTP ${res.status}`);
  return out;
}

function creationViolations(req: Pick<FuzzRequest, "headers">, res: FuzzResponse): { violations: string[]; id?: string } {
  const out: string[] = [];
  const keyed = req.headers["idempotency-key"] !== undefined;
  if (res.status !== 202 && !(res.status === 200 && keyed)) out.push(`POST /job answered ${res.status}${keyed ? "" : " without an Idempotency-Key"}`);
  const job = parseJson(res.body) as { id?: unknown; status?: unknown } | null | undefined;
  if (job === undefined) return { violations: [...out, `POST /job ${res.status} body is not JSON`] };
  const id = typeof job?.id === "string" ? job.id : undefined;
  if (id === undefined) out.push(`POST /job ${res.status} body has no id`);
  if (res.headers.location !== `/job/${id}`) out.push(`POST /job ${res.status}: Location "${String(res.headers.location)}" for job ${id}`);
  return { violations: out, ...(id === undefined ? {} : { id }) };
}

/** The path without its query, as the router sees it. */
export function pathOf(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
