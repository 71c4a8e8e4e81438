import { afterEach, describe, expect, it, vi } from "vitest";
import { cachedReading } from "../src/nats/cached-reading.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("cachedReading", () => {
  it("reads at most once per ttl, and callers within it share the reading", async () => {
    vi.useFakeTimers();
    let reads = 0;
    const read = cachedReading(async () => ++reads, { ttlMs: 1_000 });
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    vi.advanceTimersByTime(999);
    expect(await read()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await read()).toBe(2);
    expect(reads).toBe(2);
  });

  it("turns a failed reading into NaN, reports it, and caches it like any other", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let reads = 0;
    const read = cachedReading(
      async () => {
        reads++;
        throw new Error("no responders");
      },
      { ttlMs: 1_000, onError: (err) => errors.push(err) },
    );
    expect(await read()).toBeNaN();
    expect(await read()).toBeNaN();
    expect([reads, errors.length]).toEqual([1, 1]);
  });
});
