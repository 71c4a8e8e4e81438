import { newJobId, type JobEvent, type JobRequested } from "@jobs/core";
import { ensureRunnerConsumer, ensureStream, EventConflictError, EventLog, jetstream, jetstreamManager } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { gatewayOnNats, type GatewayOnNats } from "./gateway-on-harness.ts";
import { sampleValue } from "./metrics-text.ts";

const auth = { authorization: "Bearer tok" };

/** GET /metrics wired as main.ts wires it: job events read back from a real stream, the backlog from the runners' consumer. */
describe("metrics on NATS", () => {
  let g: GatewayOnNats;
  let events: EventLog;
  /** A job requested before the gateway started: the gateway never saw its request. */
  let older: JobRequested;
  let n = 0;
  const store = (event: JobEvent, msgId = `${event.jobId}:${event.type}:${++n}`) => events.append(event, msgId);
  const scrape = async () => (await g.app.inject({ method: "GET", url: "/metrics" })).body;

  beforeAll(async () => {
    g = await gatewayOnNats({
      label: "metrics",
      appendTimeoutMs: 1_000,
      readinessCacheMs: 0,
      async beforeApp({ nc, names }) {
        const jsm = await jetstreamManager(nc);
        await ensureStream(jsm, names);
        await ensureRunnerConsumer(jsm, names);
        events = new EventLog(jetstream(nc), jsm, names);
        older = {
          type: "JobRequested",
          jobId: newJobId(),
          time: new Date().toISOString(),
          data: { app: "alpha", jobType: "sum", params: { a: 1, b: 1 }, meta: {}, maxAttempts: 3, timeoutMs: 1000, runAt: null },
        };
        await store(older, `${older.jobId}:requested`);
      },
    });
  });
  afterAll(async () => {
    await g?.close();
  });

  it("counts what the stream stored: starts, finishes and run times by type, and nothing the stream refused", async () => {
    const created = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(created.statusCode).toBe(202);
    const id: string = created.json().id;
    const t0 = Date.now();
    const started: JobEvent = { type: "JobStarted", jobId: id, time: new Date(t0).toISOString(), data: { attempt: 1, runner: "r1" } };
    await store(started, `${id}:started:1`);
    await store(started, `${id}:started:1`); // a retried publish: JetStream keeps one
    // A cancel that lost its race (expected no event after the request): refused, so never a finish.
    const lostCancel: JobEvent = { type: "JobFinished", jobId: id, time: new Date(t0).toISOString(), data: { attempt: 0, outcome: "cancelled" } };
    await expect(events.append(lostCancel, `${id}:cancel`, { expectLastEventSeq: 0 })).rejects.toBeInstanceOf(EventConflictError);
    await store({ type: "JobFinished", jobId: id, time: new Date(t0 + 1_200).toISOString(), data: { attempt: 1, outcome: "succeeded", result: { value: 3 } } });

    await eventually(async () => {
      const text = await scrape();
      expect(sampleValue(text, "jobs_requested_total", { type: "sum" })).toBe(1);
      expect(sampleValue(text, "jobs_started_total", { type: "sum" })).toBe(1);
      expect(sampleValue(text, "jobs_finished_total", { type: "sum", outcome: "succeeded" })).toBe(1);
      expect(sampleValue(text, "jobs_finished_total", { type: "sum", outcome: "cancelled" })).toBeUndefined();
      expect(sampleValue(text, "jobs_run_duration_seconds_sum", { type: "sum" })).toBeCloseTo(1.2);
    });
  });

  it("reports the runners' backlog (no runner here: every request is waiting)", async () => {
    await g.app.inject({ method: "POST", url: "/job/batch", headers: auth, payload: { jobs: [0, 1, 2].map((a) => ({ type: "sum", params: { a, b: 0 } })) } });
    // Requested so far: the older job, the one of POST /job and the three of the batch.
    await eventually(async () => expect(sampleValue(await scrape(), "jobs_waiting")).toBe(5));
  });

  it("says NaN for the backlog while NATS is down, and counts what is stored after it is back", async () => {
    await g.server.stop();
    await eventually(async () => expect(sampleValue(await scrape(), "jobs_waiting")).toBeNaN());
    await g.server.restart();
    // The type of a job whose request it never saw is looked up in the stream.
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 15_000 });
    await store({ type: "JobStarted", jobId: older.jobId, time: new Date().toISOString(), data: { attempt: 1, runner: "r2" } });
    await eventually(
      async () => {
        const text = await scrape();
        expect(sampleValue(text, "jobs_started_total", { type: "sum" })).toBe(2);
        expect(sampleValue(text, "jobs_waiting")).toBe(5);
      },
      { timeoutMs: 15_000 },
    );
  });
});
