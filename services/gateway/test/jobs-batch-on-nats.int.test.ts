import { jetstreamManager } from "@jobs/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { gatewayOnNats, type GatewayOnNats } from "./gateway-on-harness.ts";

const auth = { authorization: "Bearer tok" };

/** POST /job/batch wired as main.ts wires it, on a real nats-server. */
describe("POST /job/batch on NATS", () => {
  let g: GatewayOnNats;
  /** Requests on the gateway's connection in flight now, and the most at once (a JetStream publish is a request). */
  const requests = { inFlight: 0, max: 0 };

  beforeAll(async () => {
    g = await gatewayOnNats({
      label: "batch",
      // The product's default: with fsync before every ack (sync_interval: always) one
      // server acknowledges a thousand pipelined publishes in over a second here.
      appendTimeoutMs: 5_000,
      readinessCacheMs: 0,
      beforeApp(on) {
        const request = on.nc.request.bind(on.nc);
        on.nc.request = (...args) => {
          requests.max = Math.max(requests.max, ++requests.inFlight);
          return request(...args).finally(() => requests.inFlight--);
        };
      },
    });
  });
  afterAll(async () => {
    await g?.close();
  });

  it("stores 1000 jobs with every publish in flight at once, and answers only once each is acknowledged", async () => {
    const jobs = Array.from({ length: 1000 }, (_, n) => ({ type: "sum", params: { a: n, b: 1 } }));
    const { messages: before } = (await (await jetstreamManager(g.nc)).streams.info(g.names.stream)).state;
    requests.max = 0;
    const res = await g.app.inject({ method: "POST", url: "/job/batch", headers: auth, payload: { jobs } });

    expect(res.statusCode).toBe(207);
    const items: { status: number; job?: { id: string } }[] = res.json().items;
    expect(items.map((i) => i.status)).toEqual(jobs.map(() => 202));
    expect(requests.max).toBeGreaterThanOrEqual(1000); // pipelined: not one awaited round trip each
    // Every 202 is in the stream already (the answer waited for each ack).
    const { state } = await (await jetstreamManager(g.nc)).streams.info(g.names.stream);
    expect(state.messages - before).toBe(1000);
    for (const i of [0, 499, 999]) {
      const read = await g.app.inject({ method: "GET", url: `/job/${items[i]!.job!.id}`, headers: auth });
      expect(read.json()).toMatchObject({ id: items[i]!.job!.id, status: "queued", params: { a: i, b: 1 } });
    }
  });

  it("answers 207 with 503 for each job while NATS is down, then stores them again once it is back", async () => {
    const body = { jobs: [{ type: "sum", params: { a: 1, b: 2 } }, { type: "sum", params: { a: 3, b: 4 } }] };
    await g.server.stop();
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503));
    const refused = await g.app.inject({ method: "POST", url: "/job/batch", headers: auth, payload: body });
    expect(refused.statusCode).toBe(207);
    expect(refused.json().items.map((i: { status: number; error: { type: string } }) => [i.status, i.error.type])).toEqual([
      [503, "/problems/event-not-stored"],
      [503, "/problems/event-not-stored"],
    ]);

    await g.server.restart();
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 15_000 });
    const accepted = await g.app.inject({ method: "POST", url: "/job/batch", headers: auth, payload: body });
    expect(accepted.json().items.map((i: { status: number }) => i.status)).toEqual([202, 202]);
  });
});
