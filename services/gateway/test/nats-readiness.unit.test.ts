import { describe, expect, it } from "vitest";
import { NatsReadiness } from "../src/nats-readiness.ts";

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
