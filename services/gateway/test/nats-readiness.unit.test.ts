import { describe, expect, it } from "vitest";
import { NatsReadiness } from "../src/nats/readiness.ts";

describe("NatsReadiness", () => {
  const setup = () => {
    const state = { connected: true, probes: 0, fail: false, now: 1_000 };
    const readiness = new NatsReadiness({
      connected: () => state.connected,
      probeStream: async () => {
        state.probes += 1;
        if (state.fail) throw new Error("stream not found");
      },
      now: () => state.now,
    });
    return { state, readiness };
  };

  it("is ready when connected and the stream answers, probing at most once a second", async () => {
    const { state, readiness } = setup();
    const results = await Promise.all([readiness.check(), readiness.check(), readiness.check()]);
    expect(results).toEqual([{ ready: true }, { ready: true }, { ready: true }]);
    expect(state.probes).toBe(1);
    state.now += 999;
    await readiness.check();
    expect(state.probes).toBe(1);
    state.now += 1;
    state.fail = true;
    expect(await readiness.check()).toEqual({ ready: false, reason: "the event stream does not answer" });
    expect(state.probes).toBe(2);
  });

  it("is not ready while disconnected, without probing", async () => {
    const { state, readiness } = setup();
    state.connected = false;
    expect(await readiness.check()).toEqual({ ready: false, reason: "not connected to NATS" });
    expect(state.probes).toBe(0);
  });
});

describe("readiness of a replicated stream", () => {
  const SECOND = 1_000_000_000;
  const probe = (cluster: unknown) => new NatsReadiness({ connected: () => true, probeStream: async () => ({ config: {}, cluster }) }).check();

  it("is ready on one server (no replicas) and with a leader that hears from a majority", async () => {
    expect(await probe(undefined)).toEqual({ ready: true });
    expect(await probe({ leader: "n1" })).toEqual({ ready: true });
    const replicas = [
      { name: "n2", current: true, active: 0.2 * SECOND },
      { name: "n3", current: false, offline: true, active: 30 * SECOND },
    ];
    expect(await probe({ leader: "n1", replicas })).toEqual({ ready: true });
  });

  it("is not ready when the stream has no leader, though its info answers", async () => {
    expect(await probe({ leader: "", replicas: [{ name: "n1", current: false, active: 0 }] })).toMatchObject({ ready: false, reason: expect.stringMatching(/no leader/) });
  });

  it("is not ready when the leader has lost its majority (replicas offline or silent)", async () => {
    const offline = [
      { name: "n2", current: false, offline: true, active: 1 * SECOND },
      { name: "n3", current: false, offline: true, active: 1 * SECOND },
    ];
    expect(await probe({ leader: "n1", replicas: offline })).toEqual({ ready: false, reason: "the event stream's leader reaches 1 of its 3 servers (a write needs a majority)" });
    const silent = [
      { name: "n2", current: true, active: 6 * SECOND },
      { name: "n3", current: true, active: 9 * SECOND },
    ];
    expect(await probe({ leader: "n1", replicas: silent })).toMatchObject({ ready: false });
  });
});
