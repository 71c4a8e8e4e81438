import { jobNames, newJobId, type JobNames } from "@jobs/core";
import { requested } from "@jobs/core/testing";
import { jetstreamManager, openIdempotencyBucket, type NatsConnection } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { testPrefix } from "../../../test/support/nats-server.ts";
import type { App } from "../src/app.ts";
import { bodyHash } from "../src/http/body-hash.ts";
import { claimKey, NatsIdempotencyStore } from "../src/nats/idempotency-store.ts";
import { EventNotStoredError } from "../src/ports.ts";
import { gatewayOn, natsOnTest, type Gateway, type NatsOnTest } from "./gateway-on-harness.ts";

const body = { type: "sum", params: { a: 1, b: 2 } };

describe("Idempotency-Key on a real nats-server", () => {
  let nats: NatsOnTest;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    nats = await natsOnTest("idem");
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await nats?.close();
  });

  /** The gateway wired as main.ts wires it, on its own prefix. */
  async function gateway(): Promise<{ app: App; names: JobNames }> {
    const names = jobNames(testPrefix("idem"));
    const g = await gatewayOn({ ...nats, names }); // announces SUM
    gateways.push(g);
    return { app: g.app, names };
  }

  /** JobRequested messages in the stream, per subject (every request subject of the prefix). */
  async function requestsStored(names: JobNames): Promise<Record<string, number>> {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(names.stream, { subjects_filter: names.requestFilter });
    return info.state.subjects ?? {};
  }

  const post = (key: string) => ({
    method: "POST" as const,
    url: "/job",
    headers: { authorization: "Bearer tok", "idempotency-key": key },
    payload: body,
  });

  it("50 concurrent POSTs with one key create exactly one job: one 202, 49 times 200, one id", async () => {
    const { app, names } = await gateway();
    const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject(post("burst-1"))));

    expect(answers.map((a) => a.statusCode).sort()).toEqual([...Array(49).fill(200), 202]);
    const ids = new Set(answers.map((a) => a.json().id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(await requestsStored(names)).toEqual({ [names.requestSubject(id!)]: 1 });
  });

  it("a claim whose request was never stored (a crashed gateway) is completed once by concurrent retries", async () => {
    const { app, names } = await gateway();
    const store = new NatsIdempotencyStore({ kv: await openIdempotencyBucket(nats.nc, names), connected: () => true });
    const crashed = requested({ jobType: body.type, params: body.params });
    expect(await store.claim("alpha", "crash-1", { bodyHash: bodyHash(body), request: crashed })).toEqual({ status: "claimed" });

    const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject(post("crash-1"))));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([...Array(9).fill(200), 202]);
    for (const a of answers) expect(a.json()).toMatchObject({ id: crashed.jobId, createdAt: crashed.time });
    expect(await requestsStored(names)).toEqual({ [names.requestSubject(crashed.jobId)]: 1 });

    const read = await app.inject({ method: "GET", url: `/job/${crashed.jobId}`, headers: { authorization: "Bearer tok" } });
    expect(read.json()).toEqual(answers[0]!.json());
  });

  it("the store: first claim wins, later claims get it back exactly; keys are per application", async () => {
    const names = jobNames(testPrefix("idem"));
    const kv = await openIdempotencyBucket(nats.nc, names);
    const store = new NatsIdempotencyStore({ kv, connected: () => true });
    const first = { bodyHash: "h1", request: requested() };

    expect(await store.claim("alpha", "k", first)).toEqual({ status: "claimed" });
    expect(await store.claim("alpha", "k", { bodyHash: "h2", request: requested({ jobId: newJobId() }) })).toEqual({ status: "existing", ...first });
    expect(await store.claim("beta", "k", { bodyHash: "h3", request: requested({ app: "beta" }) })).toEqual({ status: "claimed" });
    expect(claimKey("alpha", "k")).toMatch(/^alpha\.[0-9a-f]{64}$/);
    expect((await kv.get(claimKey("alpha", "k")))?.json()).toEqual(first);
    expect(() => claimKey("a.b", "k")).toThrow();
  });

  it("the bucket forgets a key after its ttl, and an existing bucket takes a new ttl", async () => {
    const names = jobNames(testPrefix("idem"));
    const jsm = await jetstreamManager(nats.nc);
    await openIdempotencyBucket(nats.nc, names, { ttlMs: 120_000 });
    const kv = await openIdempotencyBucket(nats.nc, names, { ttlMs: 1_000 });
    expect((await jsm.streams.info(`KV_${names.idempotencyBucket}`)).config.max_age).toBe(1_000 * 1_000_000);

    const store = new NatsIdempotencyStore({ kv, connected: () => true });
    const claim = { bodyHash: "h", request: requested() };
    expect((await store.claim("alpha", "short", claim)).status).toBe("claimed");
    expect((await store.claim("alpha", "short", claim)).status).toBe("existing");
    await eventually(async () => expect(await kv.get(claimKey("alpha", "short"))).toBeNull(), { timeoutMs: 10_000, intervalMs: 200 });
    expect((await store.claim("alpha", "short", claim)).status).toBe("claimed");
  });

  it("refuses at once while disconnected, claiming nothing", async () => {
    const names = jobNames(testPrefix("idem"));
    const kv = await openIdempotencyBucket(nats.nc, names);
    const store = new NatsIdempotencyStore({ kv, connected: () => false });
    await expect(store.claim("alpha", "k", { bodyHash: "h", request: requested() })).rejects.toBeInstanceOf(EventNotStoredError);
    expect(await kv.get(claimKey("alpha", "k"))).toBeNull();
  });
});
