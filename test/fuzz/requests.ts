import { randomBody } from "./bodies.ts";
import type { JobTypeInfo } from "./job-bodies.ts";
import { randomString } from "./json-values.ts";
import type { Prng } from "./prng.ts";

/** One generated request, sent as is over HTTP/1.1 (see send.ts). */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzContext {
  types: readonly JobTypeInfo[];
  /** Ids of jobs that exist: the caller's own and another application's. */
  realIds: readonly string[];
  token: string;
  otherToken: string;
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] as const;
const FIXED_PATHS = [
  "/job-types", "/healthz", "/readyz", "/docs", "/docs/json", "/openapi.json", "/metrics", "/", "*", "/jobs", "/job/", "//job",
  "/JOB", "/job/..", "/job/%2e%2e", "/job/./x", "/%", "/job%2F", "/job;x=1", "/job/%", "/job/%zz", "/job/%00", "/job/%C0%AF", "/job/%ED%A0%80", "/%FF",
  "/job?limit=0", "/job?limit=-1&status=zzz", "/job?limit=501", "/job?limit=abc&cursor=%ff", "/job?type[]=a&type=b",
  "/job-types/../job", "/healthz/", "/HEALTHZ", "/readyz?x=" + "y".repeat(5_000),
];

/** Every part of a request drawn from the PRNG: method, path, headers, body. */
export function randomRequest(rng: Prng, ctx: FuzzContext): FuzzRequest {
  const method = rng.weighted<string>([[6, "POST"], [4, "GET"], ...METHODS.map((m) => [0.6, m] as const)]);
  const path = rng.weighted<() => string>([
    [6, () => "/job"],
    [4, () => `/job/${randomId(rng, ctx)}`],
    [2, () => `/job/${randomId(rng, ctx)}/${rng.pick(["cancel", "complete", "events", "watch", "x", "", "cancel/", "CANCEL"])}`],
    [2, () => rng.pick(FIXED_PATHS)],
    [1, () => "/" + escapeAll(encodeURI, randomString(rng).slice(0, 200)).replaceAll("#", "%23").replaceAll("?", "%3F")],
  ])();
  const headers = randomHeaders(rng, ctx);
  const hasBody = method !== "GET" && method !== "HEAD" ? rng.chance(0.95) : rng.chance(0.1);
  return hasBody ? { method, path, headers, body: randomBody(rng, ctx.types) } : { method, path, headers };
}

function randomId(rng: Prng, ctx: FuzzContext): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(ctx.realIds)],
    [1, () => rng.pick(ctx.realIds).toLowerCase()],
    [1, () => rng.pick(ctx.realIds) + rng.pick(["0", "/", "%20", ".json", "?x=1"])],
    [2, () => Array.from({ length: 26 }, () => rng.pick([..."0123456789ABCDEFGHJKMNPQRSTVWXYZ"])).join("")],
    [1, () => rng.pick(["0".repeat(26), "Z".repeat(26), "I".repeat(26), "8".repeat(26), "", ".", "..", "%2e", "null", "undefined"])],
    [1, () => "A".repeat(rng.pick([27, 300, 10_000, 100_000]))],
    [1, () => escapeAll(encodeURIComponent, randomString(rng).slice(0, 100))],
  ])();
}

/** %-escapes a string, lone surrogates included (as the UTF-8 bytes of U+FFFD: encodeURI throws on them). */
function escapeAll(encode: (s: string) => string, s: string): string {
  return encode(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));
}

function randomHeaders(rng: Prng, ctx: FuzzContext): Record<string, string> {
  const headers: Record<string, string> = {};
  const auth = rng.weighted<string | undefined>([
    [14, `Bearer ${ctx.token}`],
    [2, `Bearer ${ctx.otherToken}`],
    [1, `bearer ${ctx.token}`],
    [1, undefined],
    [1, rng.pick(["Bearer", "Bearer ", "Basic ZTJlOmUyZQ==", "Bearer wrong", `Bearer ${ctx.token} extra`, `Bearer  ${ctx.token}`, "Token x", "Bearer \t"])],
    [0.5, `Bearer ${"t".repeat(rng.pick([1_000, 8_000, 20_000]))}`],
    [0.5, `Bearer ${Buffer.from("é\u00ff", "latin1").toString("latin1")}`],
  ]);
  if (auth !== undefined) headers.authorization = auth;
  const contentType = rng.weighted<string | undefined>([
    [12, "application/json"],
    [2, "application/json; charset=utf-8"],
    [1, undefined],
    [3, rng.pick(CONTENT_TYPES)],
  ]);
  if (contentType !== undefined) headers["content-type"] = contentType;
  if (rng.chance(0.15)) headers["idempotency-key"] = rng.pick(IDEMPOTENCY_KEYS);
  if (rng.chance(0.05)) headers.accept = rng.pick(["application/xml", "text/event-stream", "*/*", "application/problem+json", ""]);
  if (rng.chance(0.03)) headers["content-encoding"] = rng.pick(["gzip", "br", "identity", "x"]);
  return headers;
}

const CONTENT_TYPES = [
  "application/json; charset=latin1", "application/json;charset=UTF-16", "APPLICATION/JSON", "Application/Json; Charset=UTF-8",
  "application/problem+json", "application/vnd.api+json", "text/plain", "text/json", "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x", "", "application/json; foo", "application/json ; charset=utf-8", "*/*", "application/jsonx",
  ";", "application/json; charset=", "application/json, text/plain", "application/octet-stream", "application/json; charset=\"utf-8\"",
];

const IDEMPOTENCY_KEYS = ["k1", "k2", "k3", "k4", "k5", "", " ", "k".repeat(255), "k".repeat(256), "key\twith\ttabs", "\u00e9t\u00e9", "a b c"];
