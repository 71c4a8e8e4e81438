import { encodeMetricsDelta, type JobMetricsDelta } from "@jobs/core";
import { requested } from "@jobs/core/testing";
import { provisionRunners, EventLog, jetstream, jetstreamManager } from "@jobs/nats";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { gatewayOnNats, type GatewayOnNats } from "./gateway-on-harness.ts";
import { sampleValue } from "./metrics-text.ts";

const auth = { authorization: "Bearer tok" };

/**
 * GET /metrics wired as main.ts wires it: the projectors' counts from NATS, the backlog
 * from the runners' consumer. Each test has a gateway, a server and one job requested
 * before the gateway started (in the backlog, not in jobs_requested_total) of its own.
 */
describe("metrics on NATS", () => {
  let g: GatewayOnNats;
  const scrape = async () => (await g.app.inject({ method: "GET", url: "/metrics" })).body;
  /** What a projector publishes after a flush. */
  const publishDelta = (delta: JobMetricsDelta) => g.nc.publish(g.names.metricsSubject, encodeMetricsDelta(delta));

  beforeEach(async () => {
    g = await gatewayOnNats({
      label: "metrics",
      appendTimeoutMs: 1_000,
      readinessCacheMs: 0,
      async beforeApp({ nc, names }) {
        const jsm = await jetstreamManager(nc);
        await provisionRunners(nc, names);
        const older = requested();
        await new EventLog(jetstream(nc), jsm, names).append(older, `${older.jobId}:requested`);
      },
    });
  });
  afterEach(async () => {
    await g?.close();
  });

  it("counts what the projectors publish, and ignores what is not a count", async () => {
    const created = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(created.statusCode).toBe(202);
    g.nc.publish(g.names.metricsSubject, "{ not json");
    g.nc.publish(g.names.metricsSubject, JSON.stringify({ started: { sum: -1 } }));
    publishDelta({ started: { sum: 1 }, attemptsFailed: {}, finished: { sum: { succeeded: 1 } }, runSeconds: { sum: [1.2] } });
    publishDelta({ started: { pi: 2 }, attemptsFailed: { pi: 1 }, finished: {}, runSeconds: {} });

    await eventually(async () => {
      const text = await scrape();
      expect(sampleValue(text, "jobs_requested_total", { type: "sum" })).toBe(1);
      expect(sampleValue(text, "jobs_started_total", { type: "sum" })).toBe(1);
      expect(sampleValue(text, "jobs_started_total", { type: "pi" })).toBe(2);
      expect(sampleValue(text, "jobs_attempts_failed_total", { type: "pi" })).toBe(1);
      expect(sampleValue(text, "jobs_finished_total", { type: "sum", outcome: "succeeded" })).toBe(1);
      expect(sampleValue(text, "jobs_finished_total", { type: "sum", outcome: "cancelled" })).toBeUndefined();
      expect(sampleValue(text, "jobs_run_duration_seconds_sum", { type: "sum" })).toBeCloseTo(1.2);
      expect(sampleValue(text, "jobs_run_duration_seconds_count", { type: "sum" })).toBe(1);
    });
  });

  it("reports the runners' backlog, routed jobs included (no runner here: every request is waiting)", async () => {
    const jobs = [...[0, 1, 2].map((a) => ({ type: "sum", params: { a, b: 0 } })), { type: "sum", params: { a: 3, b: 0 }, priority: "low" }];
    await g.app.inject({ method: "POST", url: "/job/batch", headers: auth, payload: { jobs } });
    // Requested so far: the older job and the four of the batch (the low one on the routing consumer).
    await eventually(async () => expect(sampleValue(await scrape(), "jobs_waiting")).toBe(5));
  });

  it("says NaN for the backlog while NATS is down, and counts again after it is back", async () => {
    await eventually(async () => expect(sampleValue(await scrape(), "jobs_waiting")).toBe(1)); // the older job
    await g.server.stop();
    await eventually(async () => expect(sampleValue(await scrape(), "jobs_waiting")).toBeNaN());
    await g.server.restart();
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 15_000 });
    // The client renews the subscription after the reconnect: counts published now arrive.
    await eventually(
      async () => {
        publishDelta({ started: { sum: 1 }, attemptsFailed: {}, finished: {}, runSeconds: {} });
        await g.nc.flush();
        const text = await scrape();
        expect(sampleValue(text, "jobs_started_total", { type: "sum" })).toBeGreaterThanOrEqual(1);
        expect(sampleValue(text, "jobs_waiting")).toBe(1);
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
  });
});
