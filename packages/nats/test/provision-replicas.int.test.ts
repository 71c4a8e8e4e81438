import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { jobNames, type JobNames } from "@jobs/core";
import { eventually } from "../../../test/support/eventually.ts";
import { startNatsCluster, startNatsServer, testPrefix, type NatsClusterHandle } from "../../../test/support/nats-server.ts";
import { ensureProjectorConsumer, ensureRunnerConsumer, ensureStream, openIdempotencyBucket, openIndexBucket, openTypesBucket, openViewBucket } from "../src/provision.ts";

/**
 * JOBS_REPLICAS on a three-node cluster: what the services provision gets that many
 * replicas (the consumers through the stream), a deployment started with 1 is changed to
 * 3 by the next start with 3, and a caller that names no count (a test, a tool) changes
 * nothing.
 */
let cluster: NatsClusterHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  cluster = await startNatsCluster();
  nc = await connect({ servers: cluster.url.split(",") });
  jsm = await jetstreamManager(nc);
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.dispose();
});

/** Everything a gateway, a runner and a projector provision at start-up. */
async function provision(names: JobNames, replicas?: number): Promise<void> {
  const opts = replicas === undefined ? {} : { replicas };
  await ensureStream(jsm, names, opts);
  await ensureRunnerConsumer(jsm, names);
  await ensureProjectorConsumer(jsm, names);
  await openViewBucket(nc, names, opts);
  await openTypesBucket(nc, names, opts);
  await openIndexBucket(nc, names, opts);
  await openIdempotencyBucket(nc, names, { ttlMs: 60_000, ...opts });
}

/** Replicas each asset has now: its configured count, and the servers that hold it (leader + replicas). */
async function replicasOf(names: JobNames) {
  const streams = [names.stream, ...[names.viewBucket, names.typesBucket, names.indexBucket, names.idempotencyBucket].map((b) => `KV_${b}`)];
  const out: Record<string, { configured: number; servers: number }> = {};
  for (const s of streams) {
    const info = await jsm.streams.info(s);
    out[s] = { configured: info.config.num_replicas, servers: 1 + (info.cluster?.replicas?.length ?? 0) };
  }
  for (const c of [names.runnerConsumer, names.projectorConsumer]) {
    const info = await jsm.consumers.info(names.stream, c);
    out[c] = { configured: info.config.num_replicas ?? 0, servers: 1 + (info.cluster?.replicas?.length ?? 0) };
  }
  return out;
}

function expected(names: JobNames, stream: number, consumers: { configured: number; servers: number }) {
  const s = { configured: stream, servers: stream };
  return {
    [names.stream]: s,
    [`KV_${names.viewBucket}`]: s,
    [`KV_${names.typesBucket}`]: s,
    [`KV_${names.indexBucket}`]: s,
    [`KV_${names.idempotencyBucket}`]: s,
    [names.runnerConsumer]: consumers,
    [names.projectorConsumer]: consumers,
  };
}

describe("provisioning with JOBS_REPLICAS on a three-node cluster", () => {
  it("creates the stream and every bucket with 3 replicas, and the consumers inherit them", async () => {
    const names = jobNames(testPrefix("r3"));
    await provision(names, 3);
    // Consumers leave num_replicas at 0 (inherit) and live on all three servers.
    await eventually(async () => expect(await replicasOf(names)).toEqual(expected(names, 3, { configured: 0, servers: 3 })), { timeoutMs: 15_000, intervalMs: 200 });
  });

  it("changes a deployment started with 1 replica to 3 on the next start with 3, consumers included", async () => {
    const names = jobNames(testPrefix("r1to3"));
    await provision(names, 1);
    expect(await replicasOf(names)).toEqual(expected(names, 1, { configured: 0, servers: 1 }));
    await provision(names, 3);
    await eventually(async () => expect(await replicasOf(names)).toEqual(expected(names, 3, { configured: 0, servers: 3 })), { timeoutMs: 20_000, intervalMs: 250 });
    // The idempotency bucket kept its ttl through the rescale.
    expect((await jsm.streams.info(`KV_${names.idempotencyBucket}`)).config.max_age).toBe(60_000 * 1_000_000);
  });

  it("changes 3 back to 1 when asked, and leaves the count alone when none is named", async () => {
    const names = jobNames(testPrefix("r3to1"));
    await provision(names, 3);
    await eventually(async () => expect(await replicasOf(names)).toEqual(expected(names, 3, { configured: 0, servers: 3 })), { timeoutMs: 15_000, intervalMs: 200 });
    await provision(names); // a test's or tool's connection: no count named
    // An update would show in the configured count at once (the update answers with the new config).
    expect(await replicasOf(names)).toEqual(expected(names, 3, { configured: 0, servers: 3 }));
    await provision(names, 1);
    await eventually(async () => expect(await replicasOf(names)).toEqual(expected(names, 1, { configured: 0, servers: 1 })), { timeoutMs: 20_000, intervalMs: 250 });
  });

  it("survives several processes provisioning 3 replicas at once over an R1 deployment", async () => {
    const names = jobNames(testPrefix("r3race"));
    await provision(names, 1);
    const others = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: cluster.url.split(",") })));
    try {
      const outcomes = await Promise.allSettled(
        others.map(async (c) => {
          const j = await jetstreamManager(c);
          await ensureStream(j, names, { replicas: 3 });
          await Promise.all([openViewBucket(c, names, { replicas: 3 }), openTypesBucket(c, names, { replicas: 3 }), openIndexBucket(c, names, { replicas: 3 }), openIdempotencyBucket(c, names, { ttlMs: 60_000, replicas: 3 })]);
        }),
      );
      expect(outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []))).toEqual([]);
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
    await eventually(async () => expect(await replicasOf(names)).toEqual(expected(names, 3, { configured: 0, servers: 3 })), { timeoutMs: 20_000, intervalMs: 250 });
  });
});

describe("JOBS_REPLICAS=3 against a single server", () => {
  it("stops the start with a message naming the setting, and creates nothing", async () => {
    const single = await startNatsServer();
    const c = await connect({ servers: single.url });
    try {
      const j = await jetstreamManager(c);
      const names = jobNames(testPrefix("r3single"));
      const err = await ensureStream(j, names, { replicas: 3 }).then(() => null, (e: Error) => e);
      expect(err?.name).toBe("StartupError");
      expect(err?.message).toMatch(/^JOBS_REPLICAS=3 needs a cluster of three nats-servers/);
      expect(await j.streams.info(names.stream).then(() => "exists", () => "absent")).toBe("absent");
    } finally {
      await c.close();
      await single.dispose();
    }
  });
});
