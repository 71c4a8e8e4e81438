import { jobIdFromSubject, jobNames, type JobNames } from "@jobs/core";
import { announceJobTypes, EventLog, IndexStore, jetstream, jetstreamManager, openIndexBucket, openTypesBucket, openViewBucket, ViewStore } from "@jobs/nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { failingReads, losingAnswers } from "../../../test/support/lossy-jetstream.ts";
import { testPrefix } from "../../../test/support/nats-server.ts";
import { buildApp, type App } from "../src/app.ts";
import { natsAppDeps } from "../src/nats/deps.ts";
import { NatsJobStore } from "../src/nats/job-store.ts";
import { natsOnTest, SUM, type NatsOnTest } from "./gateway-on-harness.ts";

/**
 * POST /job on a real nats-server when JetStream stores the request but its answers are
 * lost (losingAnswers): the gateway sends the same message again (3 tries) and looks the
 * job up before it answers 503, so only a store that answers nothing at all, lookups
 * included, gets a 503 for a job it holds; the client's retry with the same
 * Idempotency-Key then answers that very job, stored once.
 */

const auth = { authorization: "Bearer tok" };
const body = { type: "sum", params: { a: 1, b: 2 } };
const post = (key?: string) => ({ method: "POST" as const, url: "/job", headers: { ...auth, ...(key === undefined ? {} : { "idempotency-key": key }) }, payload: body });

describe("POST /job when the answers of a stored publish are lost", () => {
  let nats: NatsOnTest;
  const closing: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    nats = await natsOnTest("ack");
  });
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await nats?.close();
  });

  /**
   * The app wired by natsAppDeps, but for its job store: a NatsJobStore (3 tries) whose
   * publishes go through `lossy` and whose lookups fail while `readsDown()`.
   */
  async function gateway(lossy: ReturnType<typeof losingAnswers>, readsDown: () => boolean = () => false): Promise<{ app: App; names: JobNames }> {
    const { nc, log } = nats;
    const names = jobNames(testPrefix("ack"));
    const controller = new AbortController();
    closing.push(async () => controller.abort());
    await announceJobTypes(await openTypesBucket(nc, names), [SUM]);
    const deps = await natsAppDeps({ nc, names, log, signal: controller.signal, idempotencyTtlMs: 60_000 });
    const jobs = new NatsJobStore({
      log: new EventLog(lossy.js, failingReads(await jetstreamManager(nc), readsDown), names),
      views: new ViewStore(await openViewBucket(nc, names)),
      index: new IndexStore(await openIndexBucket(nc, names), names),
      connected: () => true,
      appendTimeoutMs: 1_000,
      appendTries: 3,
    });
    const app = buildApp({ ...deps, jobs, tokens: new Map([["tok", "alpha"]]) });
    closing.push(() => app.close());
    await app.ready();
    return { app, names };
  }

  /** The ids of the jobs whose request the stream holds, with how many copies of it. */
  async function requestsStored(names: JobNames): Promise<Record<string, number>> {
    const info = await (await jetstreamManager(nats.nc)).streams.info(names.stream, { subjects_filter: names.requestFilter });
    return Object.fromEntries(Object.entries(info.state.subjects ?? {}).map(([subject, n]) => [jobIdFromSubject(subject), n]));
  }

  it.each([1, 2])("answers 202, not 503, when %i of its 3 tries went unanswered; the job exists once", async (lost) => {
    const lossy = losingAnswers(jetstream(nats.nc), lost, "stored");
    const { app, names } = await gateway(lossy);
    const res = await app.inject(post());
    expect(res.statusCode).toBe(202);
    expect(lossy.sent()).toBe(lost + 1);
    expect(await requestsStored(names)).toEqual({ [res.json().id]: 1 });
    expect((await app.inject({ method: "GET", url: `/job/${res.json().id}`, headers: auth })).json()).toEqual(res.json());
  });

  it("answers 202 when no try was answered but the lookup after the last one finds the job", async () => {
    const lossy = losingAnswers(jetstream(nats.nc), 3, "stored");
    const { app, names } = await gateway(lossy);
    const res = await app.inject(post("k-found"));
    expect(res.statusCode).toBe(202);
    expect(lossy.sent()).toBe(3);
    expect(await requestsStored(names)).toEqual({ [res.json().id]: 1 });
  });

  it("answers 503 when neither a try nor the lookup was answered, though the job was stored; the retry with its key answers that job, stored once", async () => {
    const lossy = losingAnswers(jetstream(nats.nc), 3, "stored");
    let readsDown = true;
    const { app, names } = await gateway(lossy, () => readsDown);
    const first = await app.inject(post("k-503"));
    expect(first.statusCode).toBe(503);
    expect(first.json().type).toBe("/problems/event-not-stored");
    expect(lossy.sent()).toBe(3);
    const stored = await requestsStored(names);
    expect(Object.values(stored)).toEqual([1]); // the 503 was for a job that exists
    const [id] = Object.keys(stored);

    readsDown = false;
    const retry = await app.inject(post("k-503"));
    expect([200, 202]).toContain(retry.statusCode);
    expect(retry.json()).toMatchObject({ id, status: "queued" });
    expect(await requestsStored(names)).toEqual({ [id!]: 1 });
  });

  it("answers 503 when no try arrived; the retry with its key creates the job of the first request: 202, stored once", async () => {
    const lossy = losingAnswers(jetstream(nats.nc), 3, "dropped");
    const { app, names } = await gateway(lossy);
    expect((await app.inject(post("k-lost"))).statusCode).toBe(503);
    expect(await requestsStored(names)).toEqual({});
    const retry = await app.inject(post("k-lost"));
    expect(retry.statusCode).toBe(202);
    expect(await requestsStored(names)).toEqual({ [retry.json().id]: 1 });
  });
});
