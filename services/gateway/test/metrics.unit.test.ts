import { afterEach, describe, expect, it } from "vitest";
import { buildApp, type App } from "../src/app.ts";
import { GatewayMetrics, type GatewayMetricsOptions } from "../src/gateway-metrics.ts";
import { FakeIdempotencyStore, FakeJobStore, FakeJobTypes, FakeReadiness } from "./fakes.ts";
import { auth, testApp, TOKEN } from "./helper.ts";
import { helpOf, sampleValue } from "./metrics-text.ts";

const open: App[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

/** The app on fakes with a metrics set of the test's own. */
async function appWithMetrics(opts: GatewayMetricsOptions) {
  const metrics = new GatewayMetrics(opts);
  const deps = { jobs: new FakeJobStore(), idempotency: new FakeIdempotencyStore(), types: new FakeJobTypes(), readiness: new FakeReadiness() };
  const app = buildApp({ ...deps, tokens: new Map([[TOKEN, "alpha"]]), metrics });
  open.push(app);
  await app.ready();
  return app;
}

async function scrape(app: App): Promise<string> {
  const res = await app.inject({ method: "GET", url: "/metrics" });
  expect(res.statusCode).toBe(200);
  return res.body;
}

const post = (url: string, payload: object, headers: Record<string, string> = {}) => ({ method: "POST" as const, url, headers: { ...auth(), ...headers }, payload });

describe("GET /metrics", () => {
  it("is public Prometheus text, with a HELP text for every jobs_ metric", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const names = [
      "jobs_requested_total",
      "jobs_started_total",
      "jobs_finished_total",
      "jobs_attempts_failed_total",
      "jobs_run_duration_seconds",
      "jobs_http_requests_total",
      "jobs_http_request_duration_seconds",
    ];
    for (const name of names) expect(helpOf(res.body, name), name).toMatch(/\w.{20,}/);
    expect(res.body).toContain("# TYPE jobs_run_duration_seconds histogram");
  });

  it("counts the jobs this gateway created, by type: POST /job and POST /job/batch, not refusals or Idempotency-Key repeats", async () => {
    const { app } = await testApp();
    const sum = { type: "sum", params: { a: 1, b: 2 } };
    expect((await app.inject(post("/job", sum))).statusCode).toBe(202);
    expect((await app.inject(post("/job", sum, { "idempotency-key": "k" }))).statusCode).toBe(202);
    expect((await app.inject(post("/job", sum, { "idempotency-key": "k" }))).statusCode).toBe(200);
    expect((await app.inject(post("/job", { type: "sum" }))).statusCode).toBe(400);
    const sleep = { type: "sleep", params: { ms: 1 } };
    expect((await app.inject(post("/job/batch", { jobs: [sleep, sleep, sum, { type: "nope" }] }))).statusCode).toBe(207);

    const text = await scrape(app);
    expect(sampleValue(text, "jobs_requested_total", { type: "sum" })).toBe(3);
    expect(sampleValue(text, "jobs_requested_total", { type: "sleep" })).toBe(2);
    expect(sampleValue(text, "jobs_requested_total", { type: "nope" })).toBeUndefined();
  });

  it.each(["dropped", "stored"] as const)("does not count jobs whose event the store did not confirm (%s)", async (fate) => {
    const { app, jobs } = await testApp();
    jobs.failAppends = fate;
    expect((await app.inject(post("/job", { type: "sum", params: { a: 1, b: 2 } }))).statusCode).toBe(503);
    expect((await app.inject(post("/job/batch", { jobs: [{ type: "sum", params: { a: 1, b: 2 } }] }))).json().items[0].status).toBe(503);
    expect(sampleValue(await scrape(app), "jobs_requested_total", { type: "sum" })).toBeUndefined();
  });

  it("counts and times HTTP answers by method, route pattern (not the URL) and status", async () => {
    const { app } = await testApp();
    const created = await app.inject(post("/job", { type: "sum", params: { a: 1, b: 2 } }));
    await app.inject({ method: "GET", url: `/job/${created.json().id}`, headers: auth() });
    await app.inject({ method: "GET", url: "/job/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers: auth() });
    await app.inject({ method: "GET", url: "/job/01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    await app.inject({ method: "GET", url: "/no/such/path" });

    const text = await scrape(app);
    const count = (method: string, route: string, status: string) => sampleValue(text, "jobs_http_requests_total", { method, route, status });
    expect(count("POST", "/job", "202")).toBe(1);
    expect(count("GET", "/job/:id", "200")).toBe(1);
    expect(count("GET", "/job/:id", "404")).toBe(1);
    expect(count("GET", "/job/:id", "401")).toBe(1);
    expect(count("GET", "unmatched", "404")).toBe(1);
    expect(text).not.toContain(created.json().id);
    const timed = sampleValue(text, "jobs_http_request_duration_seconds_count", { method: "GET", route: "/job/:id", status: "200" });
    expect(timed).toBe(1);
    expect(sampleValue(text, "jobs_http_request_duration_seconds_sum", { method: "GET", route: "/job/:id", status: "200" })).toBeGreaterThan(0);
  });

  it("reports the jobs waiting as its source reads them, NaN when it fails", async () => {
    let waiting: () => Promise<number> = async () => 7;
    const app = await appWithMetrics({ waitingJobs: () => waiting() });
    const text = await scrape(app);
    expect(helpOf(text, "jobs_waiting")).toContain("num_pending");
    expect(sampleValue(text, "jobs_waiting")).toBe(7);
    waiting = async () => Number.NaN;
    expect(sampleValue(await scrape(app), "jobs_waiting")).toBeNaN();
  });

  it("has the Node.js process metrics when asked to (the service does)", async () => {
    const text = await scrape(await appWithMetrics({ processMetrics: true }));
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(sampleValue(text, name), name).toBeGreaterThanOrEqual(0);
    }
  });
});
