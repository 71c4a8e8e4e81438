import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobNames } from "@jobs/core";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { ensureProjectorConsumer, ensureRunnerConsumer, ensureStream, openIdempotencyBucket, openIndexBucket, openTypesBucket, openViewBucket } from "../src/provision.ts";

/**
 * Replicas started together (docker-compose's three runners, `pnpm start`) create the
 * same stream and buckets at the same moment, each on its own connection: every one of
 * them must come up.
 */
let server: NatsServerHandle;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  for (let i = 0; i < 8; i++) connections.push(await connect({ servers: server.url }));
});

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await server?.dispose();
});

describe("provisioning by processes starting at once", () => {
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("creates the stream, both consumers and every bucket once, and each process gets them (round %i)", async (round) => {
    const names = jobNames(testPrefix(`race${round}`));
    const outcomes = await Promise.allSettled(
      connections.map(async (nc) => {
        const jsm = await jetstreamManager(nc);
        await ensureStream(jsm, names);
        await Promise.all([
          ensureRunnerConsumer(jsm, names),
          ensureProjectorConsumer(jsm, names),
          openViewBucket(nc, names),
          openTypesBucket(nc, names),
          openIndexBucket(nc, names),
          openIdempotencyBucket(nc, names),
        ]);
      }),
    );
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []));
    expect(failures).toEqual([]);
    const jsm = await jetstreamManager(connections[0]!);
    const streams: string[] = [];
    for await (const s of jsm.streams.list()) streams.push(s.config.name);
    expect(streams.filter((s) => s === names.stream || s.startsWith(`KV_${names.prefix}-`)).sort()).toEqual(
      [names.stream, ...[names.idempotencyBucket, names.indexBucket, names.typesBucket, names.viewBucket].map((b) => `KV_${b}`)].sort(),
    );
  });
});
