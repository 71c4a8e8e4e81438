import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobNames } from "@jobs/core";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../support/nats-server.ts";
import { startStack, type Stack } from "../support/services.ts";
import { apiClient } from "../support/http.ts";
import { eventually } from "../support/eventually.ts";
import { allJobHistories } from "../support/job-history.ts";
import { sampleValue } from "../../services/gateway/test/metrics-text.ts";

/**
 * The whole life of a job through real processes: gateway, projector and runner started
 * as a user starts them, against a real nats-server. One job of every built-in type runs
 * to its exact result.
 */
let nats: NatsServerHandle;
let stack: Stack;
let api: ReturnType<typeof apiClient>;
let nc: NatsConnection;
const prefix = testPrefix("e2e");
const names = jobNames(prefix);
/** Every job that got a 202 in this file: the stream must hold exactly these. */
const accepted = new Set<string>();

beforeAll(async () => {
  nats = await startNatsServer();
  stack = await startStack({ natsUrl: nats.url, prefix });
  api = apiClient(stack.baseUrl, stack.token);
  nc = await connect({ servers: nats.url });
  // The gateway learns the types from the runner's registry; wait until it has them.
  await eventually(async () => {
    const res = await api.get("/job-types");
    expect(res.body.items.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["countdown", "fibonacci", "pi", "sleep", "sum"]));
  }, { timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await stack?.stop();
  await nats?.dispose();
});

async function runToEnd(type: string, params: unknown, meta: Record<string, unknown> = {}) {
  const created = await api.post("/job", { type, params, meta });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  accepted.add(created.body.id);
  expect(created.headers.get("location")).toBe(`/job/${created.body.id}`);
  // Read-your-writes: the job is there at once, whatever the projector's lag.
  const first = await api.get(`/job/${created.body.id}`);
  expect(first.status).toBe(200);
  return eventually(async () => {
    const res = await api.get(`/job/${created.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body.status, `${type}: ${JSON.stringify(res.body)}\n${stack.logs()}`).toBe("succeeded");
    return res.body;
  }, { timeoutMs: 30_000, intervalMs: 100 });
}

describe("a job of every built-in type runs to its exact result", () => {
  it("fibonacci: F(90)", async () => {
    const job = await runToEnd("fibonacci", { n: 90 });
    expect(job.result).toEqual({ value: "2880067194370816120" });
    expect(job.attempts).toBe(1);
  });

  it("pi: 50 digits, truncated", async () => {
    const job = await runToEnd("pi", { digits: 50 });
    expect(job.result).toEqual({ value: "3.14159265358979323846264338327950288419716939937510" });
  });

  it("sum", async () => {
    const job = await runToEnd("sum", { a: 2.5, b: -4 });
    expect(job.result).toEqual({ value: -1.5 });
  });

  it("sleep", async () => {
    const job = await runToEnd("sleep", { ms: 0 });
    expect(job.result).toEqual({ ms: 0 });
  });

  it("metrics: the gateway counts what the projector folded", async () => {
    await runToEnd("sleep", { ms: 5 });
    await eventually(async () => {
      const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
      // At least this sleep (other tests of the file may have run more).
      expect(sampleValue(text, "jobs_started_total", { type: "sleep" })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(text, "jobs_finished_total", { type: "sleep", outcome: "succeeded" })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(text, "jobs_run_duration_seconds_count", { type: "sleep" })).toBeGreaterThanOrEqual(1);
    });
  });

  it("countdown: reports progress while it runs, then its result", async () => {
    const created = await api.post("/job", { type: "countdown", params: { seconds: 3 } });
    expect(created.status).toBe(202);
    accepted.add(created.body.id);
    const running = await eventually(async () => {
      const res = await api.get(`/job/${created.body.id}`);
      expect(res.body.status).toBe("running");
      expect(res.body.progress?.percent).toBeGreaterThan(0);
      return res.body;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(running.progress.percent).toBeLessThan(100);
    const done = await eventually(async () => {
      const res = await api.get(`/job/${created.body.id}`);
      expect(res.body.status).toBe("succeeded");
      return res.body;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    expect(done.result).toEqual({ seconds: 3 });
    expect(Date.parse(done.finishedAt) - Date.parse(done.startedAt)).toBeGreaterThanOrEqual(2_900);
  });
});

describe("the job's record", () => {
  it("returns meta exactly as sent and keeps the job to its owner", async () => {
    const meta = { user: { id: 42, tags: ["a", "ü", "✓"] }, nested: { deep: [1, { x: null }] }, empty: {} };
    const job = await runToEnd("sum", { a: 1, b: 2 }, meta);
    expect(job.meta).toEqual(meta);
    const other = apiClient(stack.baseUrl, "other-token");
    expect((await other.get(`/job/${job.id}`)).status).toBe(404);
  });

  it("keeps every event in the stream, in order", async () => {
    const job = await runToEnd("countdown", { seconds: 1 });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(names.stream);
    expect(info.config.deny_delete).toBe(true);
    expect(info.config.deny_purge).toBe(true);
    const request = await jsm.streams.getMessage(names.stream, { last_by_subj: names.requestSubject(job.id) });
    expect(request?.json<{ type: string }>().type).toBe("JobRequested");
    const last = await jsm.streams.getMessage(names.stream, { last_by_subj: names.eventSubject(job.id) });
    expect(last?.json<{ type: string; data: { outcome: string } }>()).toMatchObject({ type: "JobFinished", data: { outcome: "succeeded" } });
  });

  it("rejects a bad request with a problem and stores nothing", async () => {
    const res = await api.post("/job", { type: "fibonacci", params: { n: -1 } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(res.body.errors)).toContain("/params/n");
    const unknown = await api.post("/job", { type: "nope" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain("fibonacci");
    expect((await fetch(`${stack.baseUrl}/job/${"0".repeat(26)}`)).status).toBe(401);
    const unauthenticated = await fetch(`${stack.baseUrl}/job`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "sum", params: { a: 1, b: 2 } }) });
    expect(unauthenticated.status).toBe(401);
    // A good request after them, stored (its 202): the stream holds it and every other
    // job this file was answered 202 for, and nothing of the refused ones.
    const marker = await api.post("/job", { type: "sum", params: { a: 40, b: 2 } });
    expect(marker.status).toBe(202);
    accepted.add(marker.body.id);
    const stored = [...(await allJobHistories(nc, names)).values()].map((h) => h[0]!.event);
    expect(stored.filter((e) => e.type !== "JobRequested"), "a job's first event is its request").toEqual([]);
    expect(new Set(stored.map((e) => e.jobId))).toEqual(accepted);
  });
});
