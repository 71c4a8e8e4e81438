import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { FetchedAhead } from "../src/fetched-ahead.ts";
import type { JsMsg } from "../src/nats-types.ts";
import { Slots } from "../src/slots.ts";

const log = pino({ level: "silent" });

function message(name: string) {
  const msg = { name, naks: 0, nak() { msg.naks++; } };
  return msg;
}
type FakeMsg = ReturnType<typeof message>;

/** A runner's slots with jobs that end when the test says so, and a clock the test moves. */
function setUp(size: number, opts = { limit: size, shortJobMs: 100, maxWaitMs: 1_000 }) {
  const slots = new Slots(size);
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  let clock = 0;
  const fetched = new FetchedAhead(
    slots,
    ({ msg }) => {
      const { name } = msg as unknown as FakeMsg;
      started.push(name);
      slots.run(() => new Promise<void>((resolve) => finish.set(name, resolve)));
    },
    { ...opts, log, now: () => clock },
  );
  const add = (msg: FakeMsg, rank = 1) => fetched.add({ msg: msg as unknown as JsMsg, rank });
  const end = async (name: string) => {
    finish.get(name)!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { slots, fetched, started, add, end, advance: (ms: number) => (clock += ms) };
}

/** Ends `n` quick jobs so the slots' average says "short". */
async function warmUp(env: ReturnType<typeof setUp>, n: number) {
  for (let i = 0; i < n; i++) {
    env.add(message(`warm${i}`));
    await env.end(`warm${i}`);
  }
  env.started.length = 0;
}

describe("FetchedAhead", () => {
  it("fetches no further than the free slots until enough jobs have shown they are short", async () => {
    const env = setUp(2);
    expect(env.fetched.room()).toBe(2);
    await warmUp(env, 1);
    expect(env.slots.recentJobMs).toBeNull();
    expect(env.fetched.room()).toBe(2);
    await warmUp(env, 2);
    expect(env.slots.recentJobMs).not.toBeNull();
    expect(env.fetched.room()).toBe(4);
  });

  it("starts messages in arrival order as slots free; the rest wait without a nak", async () => {
    const env = setUp(2);
    await warmUp(env, 2);
    const msgs = ["a", "b", "c", "d"].map(message);
    msgs.forEach((m) => env.add(m));
    expect(env.started).toEqual(["a", "b"]);
    expect(env.fetched.length).toBe(2);
    expect(env.fetched.room()).toBe(0);
    await env.end("b");
    expect(env.started).toEqual(["a", "b", "c"]);
    await env.end("a");
    expect(env.started).toEqual(["a", "b", "c", "d"]);
    expect(msgs.every((m) => m.naks === 0)).toBe(true);
  });

  it("starts the highest priority (lowest rank) waiting first, in arrival order within one", async () => {
    const env = setUp(1, { limit: 5, shortJobMs: 100, maxWaitMs: 1_000 });
    await warmUp(env, 1);
    env.add(message("running"));
    for (const [name, rank] of [["low1", 2], ["normal1", 1], ["high1", 0], ["low2", 2], ["high2", 0]] as const) env.add(message(name), rank);
    for (const name of ["running", "high1", "high2", "normal1", "low1"]) await env.end(name);
    expect(env.started).toEqual(["running", "high1", "high2", "normal1", "low1", "low2"]);
  });

  it("hands back any entry that waited too long, not only the first in line", async () => {
    const env = setUp(1, { limit: 5, shortJobMs: 100, maxWaitMs: 1_000 });
    await warmUp(env, 1);
    env.add(message("running"));
    const old = message("old-low");
    env.add(old, 2);
    env.advance(600);
    const fresh = message("fresh-high");
    env.add(fresh, 0);
    env.advance(400);
    expect(env.fetched.handBackStale()).toBe(1);
    expect([old.naks, fresh.naks]).toEqual([1, 0]);
  });

  it("does not fetch ahead while the recent jobs were long", async () => {
    // The slots time their jobs with performance.now(): a fake one, moved by the test.
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const env = setUp(2);
      for (const name of ["x", "y"]) env.add(message(name));
      vi.advanceTimersByTime(100); // each held its slot for shortJobMs: not short
      await env.end("x");
      await env.end("y");
      expect(env.slots.recentJobMs).toBe(100);
      expect(env.fetched.room()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands back what waited longer than maxWaitMs, then fetches ahead no more until a job ends", async () => {
    const env = setUp(1);
    await warmUp(env, 1);
    const long = message("long");
    const parked = message("parked");
    env.add(long);
    env.add(parked);
    env.advance(999);
    expect(env.fetched.handBackStale()).toBe(0);
    env.advance(1);
    expect(env.fetched.handBackStale()).toBe(1);
    expect(parked.naks).toBe(1);
    expect(long.naks).toBe(0);
    expect(env.fetched.length).toBe(0);
    expect(env.fetched.room()).toBe(0); // paused: fetching ahead now would fetch it back
    await env.end("long");
    expect(env.fetched.room()).toBe(2); // "long" took no fake time, so jobs still look short
  });

  it("hands back everything still waiting when the runner stops", async () => {
    const env = setUp(1);
    await warmUp(env, 1);
    const msgs = ["a", "b"].map(message);
    msgs.forEach((m) => env.add(m));
    env.fetched.handBackAll();
    expect(msgs.map((m) => m.naks)).toEqual([0, 1]);
    await env.end("a");
    expect(env.started).toEqual(["a"]);
  });
});
