import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../src/retry-delay.ts";

const MINUTE = 60_000;

describe("retryDelayMs", () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, MINUTE], // 64 s, capped
  ])("waits 1 s · 2^(attempt − 1) after attempt %i: %i ms", (attempt, delayMs) => {
    expect(retryDelayMs(attempt)).toBe(delayMs);
  });

  it("never waits more than a minute, however many attempts failed (2^attempt overflowing to Infinity included)", () => {
    for (const attempt of [8, 20, 100, 1_024, 1_025, 10_000, Number.MAX_SAFE_INTEGER]) expect(retryDelayMs(attempt)).toBe(MINUTE);
  });

  it("grows with each attempt until the cap, then stays there", () => {
    const delays = Array.from({ length: 30 }, (_, i) => retryDelayMs(i + 1));
    expect(delays).toEqual(delays.toSorted((a, b) => a - b));
    expect(delays.findIndex((d) => d === MINUTE)).toBe(6); // attempt 7 is the first at the cap
  });

  it("takes an attempt number below 1 as the first attempt", () => {
    expect(retryDelayMs(0)).toBe(1_000);
    expect(retryDelayMs(-3)).toBe(1_000);
  });
});
