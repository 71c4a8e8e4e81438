import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { jobNames, type StoredEvent } from "@jobs/core";
import { EventLog } from "@jobs/nats";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../support/nats-server.ts";
import { startStack, type ServiceProcess, type Stack } from "../support/services.ts";
import { apiClient } from "../support/http.ts";
import { eventually } from "../support/eventually.ts";

/**
 * The fault-injection job type `flaky` (RUNNER_TEST_JOBS=1) through real processes: two
 * runners, a projector and the gateway on a real nats-server. Each way an attempt can
 * fail (a throw, a hang past the job's timeout, the runner process exiting) is retried
 * until an attempt succeeds or none is left; the view says so, and the stream holds
 * every attempt.
 */
const ACK_WAIT_MS = 3_000; // a crashed runner's job goes to the other runner after this
const prefix = testPrefix("flaky");
let nats: NatsServerHandle;
let stack: Stack;
let nc: NatsConnection;
let events: EventLog;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  nats = await startNatsServer();
  stack = await startStack({ natsUrl: nats.url, prefix, runners: 2, env: { RUNNER_TEST_JOBS: "1", RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) } });
  api = apiClient(stack.baseUrl, stack.token);
  await eventually(async () => {
    expect((await api.get("/job-types")).body.items.map((t: { name: string }) => t.name)).toContain("flaky");
  }, { timeoutMs: 20_000 });
  nc = await connect({ servers: nats.url });
  events = new EventLog(jetstream(nc), await jetstreamManager(nc), jobNames(prefix));
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await stack?.stop();
  await nats?.dispose();
});

async function requestFlaky(params: { failAttempts: number; mode: string }, opts: { maxAttempts: number; timeoutMs?: number }): Promise<string> {
  const created = await api.post("/job", { type: "flaky", params, ...opts });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body.id;
}

async function finalView(id: string, timeoutMs: number) {
  return eventually(async () => {
    const res = await api.get(`/job/${id}`);
    expect(res.status).toBe(200);
    expect(["succeeded", "failed", "cancelled"], `${JSON.stringify(res.body)}\n${stack.logs()}`).toContain(res.body.status);
    return res.body;
  }, { timeoutMs, intervalMs: 100 });
}

/** The job's events in the stream, each as [type, attempt]. */
async function attemptsInStream(id: string): Promise<{ history: StoredEvent[]; steps: [string, number | undefined][] }> {
  const history = await events.read(id);
  return { history, steps: history.map(({ event }) => [event.type, "attempt" in event.data ? event.data.attempt : undefined]) };
}

function dataOf(history: StoredEvent[], type: string, attempt: number): Record<string, unknown> {
  const found = history.find(({ event }) => event.type === type && "attempt" in event.data && event.data.attempt === attempt);
  if (!found) throw new Error(`no ${type} of attempt ${attempt} in ${JSON.stringify(history)}`);
  return { ...found.event.data, time: found.event.time };
}

function expectTimesInOrder(job: { createdAt: string; startedAt: string; finishedAt: string; updatedAt: string }): void {
  const [created, started, finished, updated] = [job.createdAt, job.startedAt, job.finishedAt, job.updatedAt].map(Date.parse);
  expect(created).toBeLessThanOrEqual(started!);
  expect(started).toBeLessThanOrEqual(finished!);
  expect(finished).toBeLessThanOrEqual(updated!);
}

const liveRunners = () => stack.services.filter((s) => s.name === "runner" && s.child.exitCode === null && s.child.signalCode === null);

/** Two runners pulling, whatever an earlier test left (the exit test leaves one). */
async function twoLiveRunners(): Promise<void> {
  while (liveRunners().length < 2) {
    const runner = stack.start("runner", { LOG_LEVEL: "info" });
    await eventually(() => expect(runner.output(), "a new runner did not start").toContain('"msg":"runner started"'), { timeoutMs: 30_000, intervalMs: 100 });
  }
}

describe("flaky jobs: every failed attempt is retried and recorded", () => {
  it("throw: fails attempts 1 and 2, succeeds on attempt 3", async () => {
    const id = await requestFlaky({ failAttempts: 2, mode: "throw" }, { maxAttempts: 3 });
    const job = await finalView(id, 20_000);
    expect(job, stack.logs()).toMatchObject({ status: "succeeded", attempts: 3, maxAttempts: 3, result: { attempt: 3 }, error: null, progress: null });
    expectTimesInOrder(job);

    const { history, steps } = await attemptsInStream(id);
    expect(steps).toEqual([
      ["JobRequested", undefined],
      ["JobStarted", 1],
      ["JobAttemptFailed", 1],
      ["JobStarted", 2],
      ["JobAttemptFailed", 2],
      ["JobStarted", 3],
      ["JobFinished", 3],
    ]);
    for (const attempt of [1, 2]) {
      const failed = dataOf(history, "JobAttemptFailed", attempt);
      expect(failed.error).toEqual({ code: "error", message: `flaky failure on attempt ${attempt}` });
      expect(Date.parse(failed.retryAt as string)).toBeGreaterThan(Date.parse(failed.time as string));
    }
    expect(dataOf(history, "JobFinished", 3)).toMatchObject({ outcome: "succeeded", result: { attempt: 3 } });
    // The view's startedAt is the start of the attempt that succeeded.
    expect(job.startedAt).toBe(dataOf(history, "JobStarted", 3).time);
  });

  it("throw with maxAttempts 2: ends failed with the error of attempt 2", async () => {
    const id = await requestFlaky({ failAttempts: 2, mode: "throw" }, { maxAttempts: 2 });
    const job = await finalView(id, 20_000);
    expect(job, stack.logs()).toMatchObject({
      status: "failed",
      attempts: 2,
      result: null,
      error: { code: "error", message: "flaky failure on attempt 2" },
      progress: null,
    });
    expectTimesInOrder(job);

    const { history, steps } = await attemptsInStream(id);
    expect(steps).toEqual([
      ["JobRequested", undefined],
      ["JobStarted", 1],
      ["JobAttemptFailed", 1],
      ["JobStarted", 2],
      ["JobFinished", 2],
    ]);
    expect(dataOf(history, "JobFinished", 2)).toMatchObject({ outcome: "failed", error: { code: "error", message: "flaky failure on attempt 2" } });
  });

  it("hang: attempt 1 times out after timeoutMs, attempt 2 succeeds", async () => {
    const id = await requestFlaky({ failAttempts: 1, mode: "hang" }, { maxAttempts: 3, timeoutMs: 1_000 });
    const job = await finalView(id, 20_000);
    expect(job, stack.logs()).toMatchObject({ status: "succeeded", attempts: 2, result: { attempt: 2 }, error: null, progress: null });
    expectTimesInOrder(job);

    const { history, steps } = await attemptsInStream(id);
    expect(steps).toEqual([
      ["JobRequested", undefined],
      ["JobStarted", 1],
      ["JobAttemptFailed", 1],
      ["JobStarted", 2],
      ["JobFinished", 2],
    ]);
    const timedOut = dataOf(history, "JobAttemptFailed", 1);
    expect((timedOut.error as { code: string }).code).toBe("timeout");
    const hungForMs = Date.parse(timedOut.time as string) - Date.parse(dataOf(history, "JobStarted", 1).time as string);
    expect(hungForMs).toBeGreaterThanOrEqual(900); // timers may fire a little early against the event clock, not much
  });

  it("exit: the runner process running it exits; the other runner runs it after the ack wait", async () => {
    await twoLiveRunners();
    const runners = liveRunners();
    const id = await requestFlaky({ failAttempts: 1, mode: "exit" }, { maxAttempts: 3 });

    const exited = await eventually(() => {
      const gone = runners.filter((r) => r.child.exitCode !== null || r.child.signalCode !== null);
      expect(gone.length, stack.logs()).toBe(1);
      return gone[0]!;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    expect(exited.child.exitCode).toBe(1);
    const survivor = runners.find((r) => r !== exited)!;

    const job = await finalView(id, ACK_WAIT_MS + 20_000);
    expect(job, stack.logs()).toMatchObject({ status: "succeeded", attempts: 2, result: { attempt: 2 }, error: null, progress: null });
    expectTimesInOrder(job);

    const { history, steps } = await attemptsInStream(id);
    // The crashed attempt left no failure of its own: only its start, then the next attempt.
    expect(steps).toEqual([
      ["JobRequested", undefined],
      ["JobStarted", 1],
      ["JobStarted", 2],
      ["JobFinished", 2],
    ]);
    const first = dataOf(history, "JobStarted", 1);
    const second = dataOf(history, "JobStarted", 2);
    expect(ranOn(first.runner as string, exited)).toBe(true);
    expect(ranOn(second.runner as string, survivor)).toBe(true);
    // Handed over by the consumer's ack wait running out (not sooner: the crash stored nothing).
    expect(Date.parse(second.time as string) - Date.parse(first.time as string)).toBeGreaterThanOrEqual(ACK_WAIT_MS - 500);
  });
});

/** Whether a JobStarted's runner is this process: the default RUNNER_ID is `<hostname>-<pid>`. */
function ranOn(runnerId: string, process: ServiceProcess): boolean {
  return runnerId.endsWith(`-${process.child.pid}`);
}
