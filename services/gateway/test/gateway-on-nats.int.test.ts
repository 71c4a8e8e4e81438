import type { JobTypeDescriptor } from "@jobs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { gatewayOnNats, type GatewayOnNats } from "./gateway-on-harness.ts";

const auth = { authorization: "Bearer tok" };
const sum: JobTypeDescriptor = {
  name: "sum",
  description: "a + b",
  params: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
};

/** The app wired as main.ts wires it, on a real nats-server, with no projector and no runner. */
describe("gateway on NATS", () => {
  let g: GatewayOnNats;

  beforeAll(async () => {
    g = await gatewayOnNats({ types: [sum], appendTimeoutMs: 1_000, readinessCacheMs: 0 });
  });
  afterAll(async () => {
    await g?.close();
  });

  it("answers GET right after POST with the stored job", async () => {
    const created = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(created.statusCode).toBe(202);
    const read = await g.app.inject({ method: "GET", url: created.headers.location as string, headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created.json());
    const types = await g.app.inject({ method: "GET", url: "/job-types", headers: auth });
    expect(types.json()).toEqual({ items: [sum] });
  });

  it("is not ready and answers 503 while NATS is down, and recovers after", async () => {
    expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    await g.server.stop();

    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503));
    const refused = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("2");
    expect((await g.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);

    await g.server.restart();
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 15_000 });
    const accepted = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type: "sum", params: { a: 1, b: 2 } } });
    expect(accepted.statusCode).toBe(202);
    expect((await g.app.inject({ method: "GET", url: accepted.headers.location as string, headers: auth })).statusCode).toBe(200);
  });
});
