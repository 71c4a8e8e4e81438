import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressReporter } from "../src/progress-reporter.ts";

describe("ProgressReporter", () => {
  let sent: Array<{ percent: number; message?: string; n: number }>;
  const send = async (percent: number, message: string | undefined, n: number) => {
    sent.push(message === undefined ? { percent, n } : { percent, message, n });
  };

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
  });
  afterEach(() => vi.useRealTimers());

  it("sends the first report at once and coalesces a burst into its latest value", async () => {
    const reporter = new ProgressReporter(send, 200);
    reporter.report(1, "one");
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([{ percent: 1, message: "one", n: 1 }]);

    for (let p = 2; p <= 40; p++) reporter.report(p, `at ${p}`);
    await vi.advanceTimersByTimeAsync(199);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      { percent: 1, message: "one", n: 1 },
      { percent: 40, message: "at 40", n: 2 },
    ]);
  });

  it("sends at most one report per 200 ms when no interval is given", async () => {
    const reporter = new ProgressReporter(send);
    reporter.report(1);
    await vi.advanceTimersByTimeAsync(0);
    reporter.report(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(sent).toEqual([{ percent: 1, n: 1 }]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      { percent: 1, n: 1 },
      { percent: 2, n: 2 },
    ]);
    // A report after a quiet spell longer than the interval goes out at once.
    await vi.advanceTimersByTimeAsync(500);
    reporter.report(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.at(-1)).toEqual({ percent: 3, n: 3 });
  });

  it("never lowers the percent, but still passes a new message", async () => {
    const reporter = new ProgressReporter(send, 200);
    reporter.report(50);
    await vi.advanceTimersByTimeAsync(300);
    reporter.report(20, "went back");
    await vi.advanceTimersByTimeAsync(300);
    reporter.report(20, "went back"); // same as before: nothing new to send
    reporter.report(150); // clamped to 100
    await vi.advanceTimersByTimeAsync(300);
    expect(sent).toEqual([
      { percent: 50, n: 1 },
      { percent: 50, message: "went back", n: 2 },
      { percent: 100, n: 3 },
    ]);
  });

  it("flushes the pending report on close and ignores reports after it", async () => {
    const reporter = new ProgressReporter(send, 200);
    reporter.report(10);
    reporter.report(90, "almost");
    await reporter.close();
    reporter.report(95);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([
      { percent: 10, n: 1 },
      { percent: 90, message: "almost", n: 2 },
    ]);
  });

  it("keeps one send in flight: reports made while NATS is slow collapse into one", async () => {
    let release: () => void = () => undefined;
    const slowSend = (percent: number, message: string | undefined, n: number) =>
      new Promise<void>((resolve) => {
        sent.push({ percent, n });
        release = resolve;
      });
    const reporter = new ProgressReporter(slowSend, 200);
    reporter.report(1);
    for (let p = 2; p <= 30; p++) {
      reporter.report(p);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(sent).toEqual([{ percent: 1, n: 1 }]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([
      { percent: 1, n: 1 },
      { percent: 30, n: 2 },
    ]);
    release();
    await reporter.close();
  });
});
