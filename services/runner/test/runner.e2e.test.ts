import { openTypesBucket } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { startNatsServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { startService, type ServiceProcess } from "../../../test/support/services.ts";
import { finishOf, openHarness, type Harness } from "./fixtures/runner-harness.ts";

/** The runner as `pnpm start:runner` starts it: a Node process running the TypeScript as it is, worker threads included. */
let server: NatsServerHandle;
let h: Harness;
let runner: ServiceProcess | null = null;

beforeAll(async () => {
  server = await startNatsServer();
  h = await openHarness(server.url);
});
afterAll(async () => {
  await runner?.stop("SIGKILL");
  await h?.close();
  await server?.dispose();
});

describe("runner process", () => {
  it("announces its types, runs jobs (worker threads too) and stops cleanly on SIGTERM", async () => {
    runner = startService("runner", { NATS_URL: server.url, JOBS_PREFIX: h.names.prefix, RUNNER_ID: "e2e-runner", RUNNER_TEST_JOBS: "1" });
    const types = await openTypesBucket(h.nc, h.names);
    // The runner announces its types one by one: wait for each that the test reads.
    await eventually(async () => expect((await types.get("flaky"))?.json()).toMatchObject({ name: "flaky", params: { type: "object" } }), { timeoutMs: 20_000 });
    await eventually(async () => expect((await types.get("pi"))?.json()).toMatchObject({ params: { properties: { digits: { type: "integer", maximum: 100_000 } } } }), {
      timeoutMs: 20_000,
    });

    const pi = await h.request("pi", { digits: 30 });
    const fib = await h.request("fibonacci", { n: 20_000 });
    const piEvents = await h.finished(pi, 20_000);
    expect(piEvents[1]).toMatchObject({ type: "JobStarted", data: { runner: "e2e-runner" } });
    expect(finishOf(piEvents)).toEqual({ attempt: 1, outcome: "succeeded", result: { value: "3.141592653589793238462643383279" } });
    const fibResult = finishOf(await h.finished(fib, 20_000));
    expect(fibResult).toMatchObject({ outcome: "succeeded" });
    expect((fibResult.result as { value: string }).value).toHaveLength(4180);

    const exitCode = await runner.stop("SIGTERM");
    expect(exitCode, runner.output()).toBe(0);
  });
});
