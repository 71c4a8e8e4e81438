import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../support/nats-server.ts";
import { startStack, type Stack } from "../support/services.ts";
import { apiClient } from "../support/http.ts";
import { eventually } from "../support/eventually.ts";

/**
 * Cancel and outside completion through the real processes: the gateway stores the
 * ending, the runner holding the job hears it and lets go, the projector shows it.
 * One runner with one slot (RUNNER_CONCURRENCY=1), so that a job the runner did not let
 * go of holds up every job behind it, and info logs, where the runner says what it did
 * with each delivery.
 */
let nats: NatsServerHandle;
let stack: Stack;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  nats = await startNatsServer();
  stack = await startStack({ natsUrl: nats.url, prefix: testPrefix("end"), env: { RUNNER_CONCURRENCY: "1", LOG_LEVEL: "info" } });
  api = apiClient(stack.baseUrl, stack.token);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await nats?.dispose();
});

const view = async (id: string) => (await api.get(`/job/${id}`)).body;
const eventTypes = async (id: string): Promise<string[]> => (await api.get(`/job/${id}/events`)).body.items.map((e: { type: string }) => e.type);

async function untilStatus(id: string, status: string, timeoutMs = 15_000) {
  return eventually(async () => {
    const job = await view(id);
    expect(job.status, `${JSON.stringify(job)}\n${stack.logs()}`).toBe(status);
    return job;
  }, { timeoutMs, intervalMs: 100 });
}

/** The runner's log lines (pino JSON) about job `id` that carry `msg`. */
function runnerSaid(id: string, msg: string): unknown[] {
  const runner = stack.services.find((s) => s.name === "runner")!;
  return runner
    .output()
    .split("\n")
    .filter((line) => line.includes(`"jobId":"${id}"`) && line.includes(`"msg":"${msg}"`));
}

describe("cancel", () => {
  it("ends a running job: its runner aborts it and stores nothing more", async () => {
    // Far longer than any wait below: a runner still running it would hold its one slot for a minute.
    const created = await api.post("/job", { type: "countdown", params: { seconds: 60 } });
    expect(created.status).toBe(202);
    const id: string = created.body.id;
    await untilStatus(id, "running");
    const cancelled = await api.post(`/job/${id}/cancel`, { reason: "changed my mind" });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ status: "cancelled", error: { code: "cancelled", message: "changed my mind" } });
    await untilStatus(id, "cancelled");
    // The runner let go at once: its only slot is free again, so a short job behind the
    // cancelled one runs now, not when the countdown would have ended.
    const next = await api.post("/job", { type: "sum", params: { a: 1, b: 1 } });
    expect(next.status).toBe(202);
    await untilStatus(next.body.id, "succeeded", 20_000);
    await eventually(() => expect(runnerSaid(id, "the job was ended elsewhere (cancelled) while running; attempt dropped"), stack.logs()).toHaveLength(1));
    // Its handling is over (the slot is free), so nothing more can come from it: the
    // cancel is the job's last event, and its only ending.
    const types = await eventTypes(id);
    expect(types.at(-1)).toBe("JobFinished");
    expect(types.filter((t) => t === "JobFinished")).toHaveLength(1);
    expect((await api.post(`/job/${id}/cancel`)).status).toBe(409);
  });

  it("ends a queued job before it ever starts", async () => {
    const runAt = new Date(Date.now() + 2_000).toISOString();
    const created = await api.post("/job", { type: "sum", params: { a: 1, b: 2 }, runAt });
    const id: string = created.body.id;
    expect((await api.post(`/job/${id}/cancel`)).status).toBe(202);
    // At runAt the runner is handed the job again, sees it ended and skips it: once it
    // says so, the job has had its chance to start.
    await eventually(() => expect(runnerSaid(id, "job already ended; skipping the redelivery").length).toBeGreaterThan(0), { timeoutMs: 20_000, intervalMs: 100 }).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${stack.logs()}`);
      },
    );
    expect(await view(id)).toMatchObject({ status: "cancelled", attempts: 0, startedAt: null });
    expect(await eventTypes(id)).toEqual(["JobRequested", "JobFinished"]);
  });
});

describe("external jobs", () => {
  it("stay running until the outside system completes them", async () => {
    const created = await api.post("/job", { type: "external", params: { invoice: 7 } });
    expect(created.status).toBe(202);
    await untilStatus(created.body.id, "running");
    const done = await api.post(`/job/${created.body.id}/complete`, { result: { paid: true } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "succeeded", result: { paid: true } });
    expect(await untilStatus(created.body.id, "succeeded")).toMatchObject({ result: { paid: true }, attempts: 1 });
    expect((await api.post(`/job/${created.body.id}/complete`, { result: { paid: false } })).status).toBe(409);
  });

  it("cannot be completed while queued", async () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    const created = await api.post("/job", { type: "external", params: {}, runAt: later });
    const refused = await api.post(`/job/${created.body.id}/complete`, { result: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe("/problems/job-not-running");
    expect(await view(created.body.id)).toMatchObject({ status: "queued" });
  });

  it("fail with the outside system's error", async () => {
    const created = await api.post("/job", { type: "external", params: {} });
    await untilStatus(created.body.id, "running");
    const done = await api.post(`/job/${created.body.id}/complete`, { error: "card declined" });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "failed", error: { message: "card declined" } });
  });

  it("time out when the completion never comes", async () => {
    const created = await api.post("/job", { type: "external", params: {}, timeoutMs: 1_000, maxAttempts: 1 });
    const failed = await untilStatus(created.body.id, "failed");
    expect(failed.error).toMatchObject({ code: "timeout" });
    expect((await api.post(`/job/${created.body.id}/complete`, { result: 1 })).status).toBe(409);
  });
});
