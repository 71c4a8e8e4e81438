import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FlushBuffer } from "../src/flush-buffer.ts";

/** A buffer whose flushes the test ends when it wants; it records every batch. */
function setUp(options = { flushDelayMs: 100, flushMaxMessages: 3 }) {
  const batches: number[][] = [];
  const ends: (() => void)[] = [];
  const buffer = new FlushBuffer<number>(options, (batch) => {
    batches.push(batch);
    return new Promise<void>((resolve) => ends.push(resolve));
  });
  /** Ends the oldest flush under way and lets the buffer go on. */
  const endFlush = async () => {
    ends.shift()!();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { buffer, batches, endFlush };
}

describe("FlushBuffer", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("flushes flushDelayMs after the first item arrived, with everything that came meanwhile", async () => {
    const { buffer, batches } = setUp();
    buffer.push(1);
    await vi.advanceTimersByTimeAsync(60);
    buffer.push(2); // does not restart the delay
    await vi.advanceTimersByTimeAsync(39);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2]]);
  });

  it("flushes at once when flushMaxMessages are waiting, without the delay", async () => {
    const { buffer, batches } = setUp();
    buffer.push(1);
    buffer.push(2);
    expect(batches).toEqual([]);
    buffer.push(3);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(vi.getTimerCount()).toBe(0); // the delay's timer is gone
  });

  it("runs one flush at a time: what arrives meanwhile waits, and goes at once if it already waited its delay", async () => {
    const { buffer, batches, endFlush } = setUp();
    buffer.push(1);
    buffer.push(2);
    buffer.push(3);
    buffer.push(4);
    await vi.advanceTimersByTimeAsync(500); // the first flush is slow
    expect(batches).toEqual([[1, 2, 3]]);
    await endFlush();
    expect(batches).toEqual([[1, 2, 3], [4]]); // due long ago: no second delay
  });

  it("drain() flushes what waits without its delay, and waits for the flush under way", async () => {
    const { buffer, batches, endFlush } = setUp({ flushDelayMs: 600_000, flushMaxMessages: 3 });
    buffer.push(1);
    let drained = false;
    const draining = buffer.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1]]);
    buffer.push(2); // arrives during the flush
    await endFlush();
    expect(batches).toEqual([[1], [2]]);
    expect(drained).toBe(false);
    await endFlush();
    await draining;
    expect(vi.getTimerCount()).toBe(0);
  });
});
