import { evolve, jobNames, newJobId, type JobView } from "@jobs/core";
import { requested, started } from "@jobs/core/testing";
import { ensureStream, EventLog, IndexStore, jetstream, jetstreamManager, openIndexBucket, openViewBucket, ViewStore, type JetStreamClient } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { losingAnswers } from "../../../test/support/lossy-jetstream.ts";
import { testPrefix } from "../../../test/support/nats-server.ts";
import { NatsJobStore } from "../src/nats/job-store.ts";
import { EventNotStoredError } from "../src/ports.ts";
import { natsOnTest, type NatsOnTest } from "./gateway-on-harness.ts";

/** A new job's request, with a meta that must come back as it went in. */
const request = () => requested({ jobId: newJobId(), meta: { m: [1] } });

describe("NatsJobStore against a real nats-server", () => {
  let nats: NatsOnTest;

  beforeAll(async () => {
    nats = await natsOnTest();
  });
  afterAll(async () => {
    await nats?.close();
  });

  async function storeFor(prefix: string, opts: { provision?: boolean; connected?: () => boolean; js?: JetStreamClient } = {}) {
    const { nc } = nats;
    const names = jobNames(prefix);
    const jsm = await jetstreamManager(nc);
    if (opts.provision !== false) await ensureStream(jsm, names);
    const eventLog = new EventLog(opts.js ?? jetstream(nc), jsm, names);
    const views = new ViewStore(await openViewBucket(nc, names));
    const index = new IndexStore(await openIndexBucket(nc, names), names);
    const store = new NatsJobStore({ log: eventLog, views, index, connected: opts.connected ?? (() => true), appendTimeoutMs: 1_000 });
    return { store, eventLog, views };
  }

  it("finds a job right after its append, with no projector running (KV miss -> fold of the stream)", async () => {
    const { store, views } = await storeFor(testPrefix("gw"));
    const event = request();
    const { seq } = await store.append(event, `${event.jobId}:requested`);
    expect(seq).toBeGreaterThan(0);
    expect(await views.get(event.jobId)).toBeNull(); // nothing folded it into the view

    expect(await store.get(event.jobId)).toEqual(evolve(null, { seq, event }));
  });

  it("folds the job's later events too", async () => {
    const { store, eventLog } = await storeFor(testPrefix("gw"));
    const event = request();
    await store.append(event, `${event.jobId}:requested`);
    const { seq } = await eventLog.append(started(1, { jobId: event.jobId }), `${event.jobId}:started:1`);

    const view = await store.get(event.jobId);
    expect(view).toMatchObject({ id: event.jobId, status: "running", attempts: 1, seq });
  });

  it("prefers the KV view when there is one", async () => {
    const { store, views } = await storeFor(testPrefix("gw"));
    const event = request();
    const { seq } = await store.append(event, `${event.jobId}:requested`);
    const projected: JobView = { ...evolve(null, { seq, event })!, status: "succeeded", result: { value: 3 }, seq: seq + 100 };
    await views.save(projected, null);

    expect(await store.get(event.jobId)).toEqual(projected);
  });

  it("answers null for unknown and malformed ids", async () => {
    const { store } = await storeFor(testPrefix("gw"));
    expect(await store.get(newJobId())).toBeNull();
    expect(await store.get("*")).toBeNull();
    expect(await store.get("a.b")).toBeNull();
  });

  it("a repeated append of the same request is stored once (message id dedup)", async () => {
    const { store, eventLog } = await storeFor(testPrefix("gw"));
    const event = request();
    const first = await store.append(event, `${event.jobId}:requested`);
    const again = await store.append(event, `${event.jobId}:requested`);
    expect(again.seq).toBe(first.seq);
    expect([first.duplicate, again.duplicate]).toEqual([false, true]);
    expect(await eventLog.read(event.jobId)).toHaveLength(1);
  });

  it("rejects with EventNotStoredError when no stream takes the subject (no responders)", async () => {
    const { store } = await storeFor(testPrefix("gw"), { provision: false });
    const event = request();
    await expect(store.append(event, `${event.jobId}:requested`)).rejects.toBeInstanceOf(EventNotStoredError);
  });

  it("rejects at once, publishing nothing, while disconnected", async () => {
    const prefix = testPrefix("gw");
    const { store, eventLog } = await storeFor(prefix, { connected: () => false });
    const event = request();
    await expect(store.append(event, `${event.jobId}:requested`)).rejects.toBeInstanceOf(EventNotStoredError);
    expect(await eventLog.read(event.jobId)).toEqual([]);
  });

  it("answers stored, not 503, when the ack of a stored request was lost (the same message is sent again)", async () => {
    const lossy = losingAnswers(jetstream(nats.nc), 1, "stored");
    const { store, eventLog } = await storeFor(testPrefix("gw"), { js: lossy.js });
    const event = request();
    const result = await store.append(event, `${event.jobId}:requested`);
    expect(lossy.sent()).toBe(2);
    const events = await eventLog.read(event.jobId);
    expect(events).toHaveLength(1);
    expect(result).toEqual({ seq: events[0]!.seq, duplicate: false }); // the first copy was this request's own: a 202
  });

  it("rejects with EventNotStoredError after three unanswered tries of a request that was never stored", async () => {
    const lossy = losingAnswers(jetstream(nats.nc), 3, "dropped");
    const { store, eventLog } = await storeFor(testPrefix("gw"), { js: lossy.js });
    const event = request();
    await expect(store.append(event, `${event.jobId}:requested`)).rejects.toBeInstanceOf(EventNotStoredError);
    expect(lossy.sent()).toBe(3);
    expect(await eventLog.read(event.jobId)).toEqual([]);
  });
});
