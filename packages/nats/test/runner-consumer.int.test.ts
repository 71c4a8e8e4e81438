import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobNames } from "@jobs/core";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { ensureRunnerConsumer, ensureStream, RUNNER_ACK_WAIT_MS } from "../src/provision.ts";

/** The runners' consumer takes its ack wait from the runner's setting, also when it already exists. */
let server: NatsServerHandle;
let nc: NatsConnection;
const names = jobNames(testPrefix("rcw"));
const NANOS_PER_MS = 1_000_000;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  await ensureStream(await jetstreamManager(nc), names);
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe("ensureRunnerConsumer", () => {
  it("creates the consumer with the default ack wait, then updates it to a new one", async () => {
    const jsm = await jetstreamManager(nc);
    const ackWaitMs = async () => (await jsm.consumers.info(names.stream, names.runnerConsumer)).config.ack_wait! / NANOS_PER_MS;

    await ensureRunnerConsumer(jsm, names);
    expect(await ackWaitMs()).toBe(RUNNER_ACK_WAIT_MS);

    await ensureRunnerConsumer(jsm, names, { ackWaitMs: 5_000 });
    expect(await ackWaitMs()).toBe(5_000);
    // The rest of the consumer is untouched by the update.
    const { config } = await jsm.consumers.info(names.stream, names.runnerConsumer);
    expect(config).toMatchObject({ filter_subject: names.requestFilter, max_deliver: -1, ack_policy: "explicit" });

    await ensureRunnerConsumer(jsm, names, { ackWaitMs: 5_000 }); // the same value: nothing to update
    expect(await ackWaitMs()).toBe(5_000);
  });
});
