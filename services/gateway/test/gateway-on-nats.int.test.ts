import { jobNames, type JobTypeDescriptor } from "@jobs/core";
import { announceJobTypes, connectNats, openTypesBucket, type NatsConnection } from "@jobs/nats";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { buildApp, type App } from "../src/app.ts";
import { natsAppDeps } from "../src/nats-deps.ts";

const log = pino({ level: "silent" });
const auth = { authorization: "Bearer tok" };
const sum: JobTypeDescriptor = {
  name: "sum",
  description: "a + b",
  params: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
};

/** The app wired as main.ts wires it, on a real nats-server, with no projector and no runner. */
describe("gateway on NATS", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let app: App;
  const controller = new AbortController();

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: server.url, name: "gateway-test", log });
    const names = jobNames(testPrefix("gw"));
    await announceJobTypes(await openTypesBucket(nc, names), [sum]);
    const deps = await natsAppDeps({
      nc,
      names,
      log,
      signal: controller.signal,
      idempotencyTtlMs: 60_000,
      appendTimeoutMs: 1_000,
      readinessCacheMs: 0,
    });
    app = buildApp({ ...deps, tokens: new Map([["tok", "alpha"]]) });
    await app.ready();
  });
  afterAll(async () => {
    controller.abort();
    await app?.close();
    await nc?.close();
    await server?.dispose();
  });

  it("answers GET right after POST with the stored job", async () => {
    const created = await app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(created.statusCode).toBe(202);
    const read = await app.inject({ method: "GET", url: created.headers.location as string, headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created.json());
    const types = await app.inject({ method: "GET", url: "/job-types", headers: auth });
    expect(types.json()).toEqual({ items: [sum] });
  });

  it("is not ready and answers 503 while NATS is down, and recovers after", async () => {
    expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    await server.stop();

    await eventually(async () => expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503));
    const refused = await app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("2");
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);

    await server.restart();
    await eventually(async () => expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 15_000 });
    const accepted = await app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(accepted.statusCode).toBe(202);
    expect((await app.inject({ method: "GET", url: accepted.headers.location as string, headers: auth })).statusCode).toBe(200);
  });
});
