import { readFileSync } from "node:fs";
import { newJobId } from "@jobs/core";
import type { RouteOptions } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp, type App } from "../src/app.ts";
import { FakeIdempotencyStore, FakeJobStore, FakeJobTypes, FakeReadiness } from "./fakes.ts";
import { StoreUnavailableError } from "../src/ports.ts";
import { auth, TOKEN } from "./helper.ts";

interface Operation {
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
  security?: { bearer: string[] }[];
  requestBody?: unknown;
}
type Document = { openapi: string; info: { title: string; version: string; description: string }; paths: Record<string, Record<string, Operation>> };

/**
 * Every operation of the API and every status it can answer. A route added without an
 * entry here, or a status a route answers but does not declare, fails this file: the
 * document is generated from the route schemas, so this is what keeps it complete.
 */
const EXPECTED: Record<string, number[]> = {
  "get /healthz": [200],
  "get /readyz": [200, 500, 503],
  "get /openapi.json": [200],
  "get /metrics": [200, 500],
  "post /job": [200, 202, 400, 401, 413, 415, 422, 500, 503],
  "get /job": [200, 400, 401, 403, 500, 503],
  // Per-item outcomes (202, 400, 503) are inside the 207; an Idempotency-Key is refused with 400.
  "post /job/batch": [207, 400, 401, 413, 415, 500],
  "get /job/{id}": [200, 401, 404, 500, 503],
  "get /job/{id}/events": [200, 401, 404, 500, 503],
  "get /job/{id}/watch": [200, 204, 400, 401, 404, 500, 503],
  "post /job/{id}/cancel": [202, 400, 401, 404, 409, 413, 415, 500, 503],
  "post /job/{id}/complete": [200, 400, 401, 404, 409, 413, 415, 500, 503],
  "get /job-types": [200, 401, 500],
};
/** Operations that need no token (the contract's public list). */
const PUBLIC = new Set(["get /healthz", "get /readyz", "get /openapi.json", "get /metrics"]);

const open: App[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

interface Answered {
  route: string;
  status: number;
  declared: string[];
}

/** The app on fakes, with every route it registers recorded as fastify sees it, and every answer with the statuses its route declares. */
async function appWithRoutes(): Promise<{ app: App; routes: RouteOptions[]; jobs: FakeJobStore; answered: Answered[] }> {
  const jobs = new FakeJobStore();
  const deps = { jobs, idempotency: new FakeIdempotencyStore(), types: new FakeJobTypes(), readiness: new FakeReadiness() };
  const app = buildApp({ ...deps, tokens: new Map([[TOKEN, "alpha"]]) });
  open.push(app);
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (route) => void routes.push(route));
  const answered: Answered[] = [];
  app.addHook("onResponse", async (request, reply) => {
    const { method, url, schema } = request.routeOptions;
    if (method === "HEAD" || url === undefined) return;
    answered.push({ route: `${method} ${url}`, status: reply.statusCode, declared: Object.keys(schema?.response ?? {}) });
  });
  await app.ready();
  return { app, routes, jobs, answered };
}

async function documentOf(app: App): Promise<Document> {
  const res = await app.inject({ method: "GET", url: "/openapi.json" });
  expect(res.statusCode).toBe(200);
  return res.json() as Document;
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, path, method, op })));

describe("OpenAPI document", () => {
  it("is public, OpenAPI 3.1, titled from package.json", async () => {
    const { app } = await appWithRoutes();
    const doc = await documentOf(app);
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: `${pkg.name} API`, version: pkg.version });
    expect(doc.info.description).toContain(pkg.description);
    expect(await app.inject({ method: "GET", url: "/docs/json" }).then((r) => r.json())).toEqual(doc);
  });

  it("holds every route fastify has, except HEAD twins and hidden ones", async () => {
    const { app, routes } = await appWithRoutes();
    const doc = await documentOf(app);
    const documented = (r: RouteOptions) => r.method !== "HEAD" && r.schema?.hide !== true;
    const fromRoutes = routes.filter(documented).map((r) => `${String(r.method).toLowerCase()} ${r.url.replace(/:(\w+)/g, "{$1}")}`);
    expect(operations(doc).map((o) => o.key).sort()).toEqual([...new Set(fromRoutes)].sort());
  });

  it("declares exactly the statuses each operation can answer", async () => {
    const { app } = await appWithRoutes();
    const declared = Object.fromEntries(operations(await documentOf(app)).map((o) => [o.key, Object.keys(o.op.responses).map(Number)]));
    expect(declared).toEqual(EXPECTED);
  });

  it("declares every status the routes actually answer (a battery of requests, each status checked against its route's schema)", async () => {
    const { app, jobs, answered: seen } = await appWithRoutes();
    const json = { ...auth(), "content-type": "application/json" };
    const sum = { type: "sum", params: { a: 1, b: 2 } };
    const queued = await jobs.seedJob("alpha", newJobId());
    const external = await jobs.seedJob("alpha", newJobId(), "external");
    await jobs.seedEvent({ type: "JobStarted", jobId: external.id, time: new Date().toISOString(), data: { attempt: 1, runner: "r" } });
    const ended = await jobs.seedJob("alpha", newJobId());
    await jobs.seedEvent({ type: "JobFinished", jobId: ended.id, time: new Date().toISOString(), data: { attempt: 0, outcome: "cancelled" } });
    const requests = [
      { method: "GET", url: "/healthz" },
      { method: "GET", url: "/readyz" },
      { method: "GET", url: "/openapi.json" },
      { method: "GET", url: "/job-types", headers: auth() },
      { method: "GET", url: "/job-types" },
      { method: "POST", url: "/job", headers: { ...json, "idempotency-key": "k" }, payload: sum },
      { method: "POST", url: "/job", headers: { ...json, "idempotency-key": "k" }, payload: sum },
      { method: "POST", url: "/job", headers: { ...json, "idempotency-key": "k" }, payload: { ...sum, meta: { other: 1 } } },
      { method: "POST", url: "/job", headers: json, payload: { type: "sum" } },
      { method: "POST", url: "/job", headers: json, payload: "x".repeat(600 * 1024) },
      { method: "POST", url: "/job", headers: { ...auth(), "content-type": "text/plain" }, payload: "hi" },
      { method: "GET", url: `/job/${queued.id}`, headers: auth() },
      { method: "GET", url: `/job/${newJobId()}`, headers: auth() },
      { method: "GET", url: `/job/${queued.id}/events`, headers: auth() },
      { method: "GET", url: `/job/x/events`, headers: auth() },
      { method: "GET", url: `/job/${ended.id}/watch`, headers: auth() },
      { method: "GET", url: `/job/${ended.id}/watch`, headers: { ...auth(), "last-event-id": String(1e9) } },
      { method: "GET", url: `/job/${ended.id}/watch`, headers: { ...auth(), "last-event-id": "x" } },
      { method: "GET", url: `/job/x/watch`, headers: auth() },
      { method: "POST", url: `/job/${external.id}/complete`, headers: json, payload: { result: 1 } },
      { method: "POST", url: `/job/${external.id}/complete`, headers: json, payload: { result: 1 } },
      { method: "POST", url: `/job/${external.id}/complete`, headers: json, payload: { nope: 1 } },
      { method: "POST", url: `/job/${queued.id}/cancel`, headers: auth() },
      { method: "POST", url: `/job/${queued.id}/cancel`, headers: auth() },
      { method: "POST", url: `/job/x/cancel`, headers: auth() },
      { method: "GET", url: "/job?limit=2", headers: auth() },
      { method: "GET", url: "/job?limit=0", headers: auth() },
      { method: "POST", url: "/job/batch", headers: json, payload: { jobs: [sum, { type: "nope" }] } },
      { method: "POST", url: "/job/batch", headers: json, payload: { jobs: "x" } },
      { method: "GET", url: "/metrics" },
    ] as const;
    for (const r of requests) await app.inject(r);
    jobs.failAppends = "dropped";
    jobs.get = async () => {
      throw new StoreUnavailableError("down");
    };
    jobs.history = async () => {
      throw new Error("bug");
    };
    for (const url of [`/job/${queued.id}`, `/job/${queued.id}/watch`, `/job/${queued.id}/events`]) await app.inject({ method: "GET", url, headers: auth() });
    await app.inject({ method: "POST", url: "/job", headers: json, payload: sum });

    const statuses = new Set(seen.map((s) => s.status));
    for (const s of [200, 202, 204, 400, 401, 404, 409, 413, 415, 422, 500, 503]) expect(statuses, `battery covers ${s}`).toContain(s);
    for (const { route, status, declared } of seen) expect(declared, `${route} answered ${status}`).toContain(String(status));
  });

  it("applies the bearer scheme to exactly the routes that need a token, and each answers 401 + WWW-Authenticate without one", async () => {
    const { app } = await appWithRoutes();
    const doc = await documentOf(app);
    for (const { key, path, method, op } of operations(doc)) {
      if (PUBLIC.has(key)) {
        expect(op.security, key).toBeUndefined();
        continue;
      }
      expect(op.security, key).toEqual([{ bearer: [] }]);
      expect(op.responses["401"]?.headers, key).toHaveProperty("www-authenticate");
      const res = await app.inject({ method: method.toUpperCase() as "GET", url: path.replace("{id}", newJobId()) });
      expect(res.statusCode, key).toBe(401);
      expect(res.headers["www-authenticate"], key).toBeDefined();
    }
  });

  it("documents problems as application/problem+json, with Retry-After on 503 and the body errors on body routes", async () => {
    const { app } = await appWithRoutes();
    for (const { key, op } of operations(await documentOf(app))) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${key} ${status}`).toEqual(["application/problem+json"]);
        if (status === "503") expect(response.headers, key).toHaveProperty("retry-after");
      }
      if (op.requestBody !== undefined) for (const s of ["400", "413", "415"]) expect(op.responses, `${key} ${s}`).toHaveProperty(s);
    }
  });

  it("serves Swagger UI at /docs from the package's own assets, without a token", async () => {
    const { app } = await appWithRoutes();
    const page = await app.inject({ method: "GET", url: "/docs/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset, "no CDN").not.toMatch(/^(https?:)?\/\//);
      const res = await app.inject({ method: "GET", url: new URL(asset, "http://x/docs/").pathname });
      expect(res.statusCode, asset).toBe(200);
    }
    expect((await app.inject({ method: "GET", url: "/docs/static/swagger-initializer.js" })).body).toContain("./json");
  });
});
