import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sleep as wait } from "@jobs/service";
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
  it("returns at once for ms 0", async () => {
    const start = performance.now();
    expect(await run(sleep, { ms: 0 })).toEqual({ ms: 0 });
    expect(performance.now() - start).toBeLessThan(20);
  });

  it("waits the given time", async () => {
    const start = performance.now();
    expect(await run(sleep, { ms: 100 })).toEqual({ ms: 100 });
    expect(performance.now() - start).toBeGreaterThanOrEqual(95);
  });

  it("stops when aborted", async () => {
    const start = performance.now();
    await expect(run(sleep, { ms: 60_000 }, AbortSignal.timeout(50))).rejects.toMatchObject({ name: "AbortError" });
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

describe("countdown", () => {
  it("reports progress every second and returns the seconds", async () => {
    const { ctx, progress } = testContext();
    const start = Date.now();
    expect(await countdown.run({ seconds: 2 }, ctx)).toEqual({ seconds: 2 });
    expect(progress.map(({ percent, message }) => ({ percent, message }))).toEqual([
      { percent: 0, message: "2 s left" },
      { percent: 50, message: "1 s left" },
      { percent: 100, message: "0 s left" },
    ]);
    expect(progress[1]!.at - start).toBeGreaterThanOrEqual(990);
    expect(progress[2]!.at - start).toBeGreaterThanOrEqual(1990);
    expect(progress[2]!.at - start).toBeLessThan(2500);
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
    const controller = new AbortController();
    let settled = false;
    const waiting = run(external, { order: 1 }, controller.signal);
    void waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    await wait(50);
    expect(settled).toBe(false);
    const reason = new Error("completed elsewhere");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
