import { createHash } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fibonacci as fibonacciValue } from "../src/compute/fibonacci.ts";
import { isqrt, pi as piValue } from "../src/compute/pi-digits.ts";
import { NonRetryableError, type JobType } from "../src/job-type.ts";
import countdown from "../src/job-types/countdown.ts";
import external from "../src/job-types/external.ts";
import fibonacci from "../src/job-types/fibonacci.ts";
import pi from "../src/job-types/pi.ts";
import sleep from "../src/job-types/sleep.ts";
import sum from "../src/job-types/sum.ts";
import { checkParams } from "../src/params-check.ts";
import { testContext } from "./fixtures/job-context.ts";

const run = async (type: JobType, params: unknown, signal?: AbortSignal) => type.run(params as never, testContext({ signal }).ctx);

/** A promise whose outcome the test can look at without awaiting it. */
function settled<T>(promise: Promise<T>) {
  let outcome: { value: T } | { error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return {
    settled: () => outcome !== undefined,
    value: (): T => {
      if (outcome === undefined) throw new Error("not settled yet");
      if ("error" in outcome) throw outcome.error;
      return outcome.value;
    },
  };
}
/**
 * Fake timers for this test, node:timers/promises included (sleep and countdown wait with
 * its setTimeout): the test moves the clock instead of waiting for it.
 */
const useFakeClock = () => vi.useFakeTimers({ fakeNodeBuiltins: true });
afterEach(() => void vi.useRealTimers());
/** Runs every promise callback queued so far; no timer is due, so none fires. */
const flushMicrotasks = () => vi.advanceTimersByTimeAsync(0);

/** π by Machin's formula (16·atan(1/5) − 4·atan(1/239)) in fixed point: slow, simple, independent of the Chudnovsky code. */
function machinPi(digits: number): string {
  const one = 10n ** BigInt(digits + 20);
  const atanInv = (x: bigint) => {
    let term = one / x;
    let total = term;
    for (let n = 1n, sign = -1n; term !== 0n; n++, sign = -sign) {
      term /= x * x;
      total += (sign * term) / (2n * n + 1n);
    }
    return total;
  };
  const s = ((16n * atanInv(5n) - 4n * atanInv(239n)) / 10n ** 20n).toString();
  return `${s[0]}.${s.slice(1)}`;
}

describe("fibonacci", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [2, "1"],
    [10, "55"],
    [90, "2880067194370816120"],
  ])("F(%i) = %s", async (n, value) => {
    expect(await run(fibonacci, { n })).toEqual({ value });
  });

  it("agrees with the plain recurrence up to 300", () => {
    let [a, b] = [0n, 1n];
    for (let n = 0; n <= 300; n++, [a, b] = [b, a + b]) expect(fibonacciValue(n)).toBe(a.toString());
  });

  it("computes F(100000) in a worker: 20899 digits", async () => {
    const { value } = (await run(fibonacci, { n: 100_000 })) as { value: string };
    expect(value).toHaveLength(20899);
    expect(value.startsWith("2597406934722172416")).toBe(true);
    expect(value).toBe(fibonacciValue(100_000));
  });

  it("accepts only integers 0..100000", () => {
    expect(checkParams(fibonacci, { n: 100_000 })).toBeNull();
    for (const bad of [{ n: -1 }, { n: 100_001 }, { n: 1.5 }, { n: "5" }, {}]) expect(checkParams(fibonacci, bad)).not.toBeNull();
  });
});

describe("pi", () => {
  it.each([
    [1, "3.1"],
    [3, "3.141"], // rounding would give 3.142
    [50, "3.14159265358979323846264338327950288419716939937510"],
  ])("%i digits -> %s", async (digits, value) => {
    expect(await run(pi, { digits })).toEqual({ value });
  });

  it("truncates at the 1000-digit mark (checked against bc -l and Machin)", () => {
    // 1000 significant digits (3 and 999 after the point) end in the familiar ...216420198;
    // 1000 digits after the point take one more: ...2164201989 (bc: scale=1020; 4*a(1)).
    expect(piValue(999).endsWith("216420198")).toBe(true);
    expect(piValue(1000).endsWith("2164201989")).toBe(true);
    expect(piValue(1000)).toHaveLength(1002);
  });

  it("matches Machin's formula digit for digit, truncated at every length up to 300 and at 5000", () => {
    const reference = machinPi(5000);
    expect(piValue(5000)).toBe(reference);
    for (let d = 1; d <= 300; d++) expect(piValue(d)).toBe(reference.slice(0, d + 2));
  });

  it("computes 100000 digits in a worker, equal to an independent reference", async () => {
    const { value } = (await run(pi, { digits: 100_000 })) as { value: string };
    expect(value).toHaveLength(100_002);
    expect(value.endsWith("5493624646")).toBe(true);
    // SHA-256 of the same 100000 digits from Python's Machin formula and from mpmath (both agreed).
    expect(createHash("sha256").update(value).digest("hex")).toBe("6fba00bd4d732bf518635d1e28e5292c8db6ee4c26285fe43d5ae9d104655cd9");
  });

  it("takes the integer square root exactly", () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 60n) - 1n, 10n ** 40n, 10n ** 40n - 1n, 10005n * 10n ** 300n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });

  it("accepts only integers 1..100000", () => {
    expect(checkParams(pi, { digits: 1 })).toBeNull();
    for (const bad of [{ digits: 0 }, { digits: 100_001 }, { digits: 2.5 }]) expect(checkParams(pi, bad)).not.toBeNull();
  });
});

describe("sum", () => {
  it("adds", async () => {
    expect(await run(sum, { a: 1.5, b: 2 })).toEqual({ value: 3.5 });
    expect(await run(sum, { a: -7, b: 7 })).toEqual({ value: 0 });
  });

  it("refuses an overflow for good rather than returning Infinity", async () => {
    const err = await run(sum, { a: 1e308, b: 1e308 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err).toMatchObject({ code: "overflow" });
  });

  it("accepts only finite numbers", () => {
    expect(checkParams(sum, { a: 1, b: 2.5 })).toBeNull();
    for (const bad of [{ a: 1 }, { a: "1", b: 2 }, { a: Number.POSITIVE_INFINITY, b: 1 }, { a: Number.NaN, b: 1 }]) {
      expect(checkParams(sum, bad)).not.toBeNull();
    }
  });
});

describe("sleep", () => {
  it("returns at once for ms 0, without a timer", async () => {
    useFakeClock();
    const done = settled(run(sleep, { ms: 0 }));
    await flushMicrotasks();
    expect(vi.getTimerCount()).toBe(0);
    expect(done.value()).toEqual({ ms: 0 });
  });

  it("waits the given time", async () => {
    useFakeClock();
    const done = settled(run(sleep, { ms: 100 }));
    await vi.advanceTimersByTimeAsync(99);
    expect(done.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done.value()).toEqual({ ms: 100 });
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const running = run(sleep, { ms: 3_600_000 }, controller.signal);
    const reason = new Error("timed out");
    controller.abort(reason);
    await expect(running).rejects.toMatchObject({ name: "AbortError", cause: reason });
  });
});

describe("countdown", () => {
  it("reports progress every second and returns the seconds", async () => {
    useFakeClock();
    const { ctx, progress } = testContext();
    const start = Date.now();
    const done = settled(Promise.resolve(countdown.run({ seconds: 2 }, ctx)));
    const reported = () => progress.map(({ percent, message, at }) => ({ percent, message, after: at - start }));
    await flushMicrotasks();
    expect(reported()).toEqual([{ percent: 0, message: "2 s left", after: 0 }]);
    await vi.advanceTimersByTimeAsync(999);
    expect(progress).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reported().at(-1)).toEqual({ percent: 50, message: "1 s left", after: 1_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reported().at(-1)).toEqual({ percent: 100, message: "0 s left", after: 2_000 });
    expect(done.value()).toEqual({ seconds: 2 });
  });

  it("aims each tick at its whole second, so a late tick does not make the next one late", async () => {
    useFakeClock();
    const controller = new AbortController();
    const { ctx, progress } = testContext({ signal: controller.signal });
    const start = Date.now();
    const running = Promise.resolve(countdown.run({ seconds: 3 }, ctx)).catch(() => undefined);
    vi.setSystemTime(start + 300); // the wall clock moves on while the timer waits: the first tick comes 300 ms late
    await vi.advanceTimersByTimeAsync(1_000);
    expect(progress.map((p) => p.at - start)).toEqual([0, 1_300]);
    await vi.advanceTimersByTimeAsync(699);
    expect(progress).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // at 2 s, not at 1.3 s + 1 s
    expect(progress.map((p) => p.at - start)).toEqual([0, 1_300, 2_000]);
    controller.abort();
    await running;
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const { ctx, progress } = testContext({ signal: controller.signal });
    const running = Promise.resolve(countdown.run({ seconds: 3600 }, ctx));
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(running).rejects.toMatchObject({ name: "AbortError", cause: reason });
    expect(progress).toHaveLength(1);
  });
});

describe("external", () => {
  it("accepts any JSON params", () => {
    for (const params of [{}, { order: 42, items: ["a"] }, [1, 2], "text", null]) expect(checkParams(external, params)).toBeNull();
  });

  it("waits until its signal aborts, then rejects with the abort reason", async () => {
    useFakeClock();
    const controller = new AbortController();
    const waiting = run(external, { order: 1 }, controller.signal);
    const done = settled(waiting);
    await vi.advanceTimersByTimeAsync(3_600_000); // no timer ends it: an hour passes and it still waits
    expect(done.settled()).toBe(false);
    const reason = new Error("completed elsewhere");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
