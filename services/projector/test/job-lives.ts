import type { JobEvent } from "@jobs/core";

const time = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();

/** The life of one job; four shapes, with retries, failures, cancellation and late events. */
export function jobLife(jobId: string, shape: number): JobEvent[] {
  const ev = <T extends JobEvent["type"]>(type: T, ms: number, data: Extract<JobEvent, { type: T }>["data"]) =>
    ({ type, jobId, time: time(ms), data }) as JobEvent;
  const requested = ev("JobRequested", 0, {
    app: "app",
    jobType: "sum",
    params: { a: shape, b: 1 },
    meta: { shape, note: "ü ✓", nested: { list: [1, { x: null }] } },
    maxAttempts: 3,
    timeoutMs: 10_000,
    runAt: null,
    priority: "normal",
    startBy: null,
    scheduleId: null,
  });
  switch (shape % 4) {
    case 0:
      return [
        requested,
        ev("JobStarted", 1, { attempt: 1, runner: "r1" }),
        ev("JobProgress", 2, { attempt: 1, percent: 10 }),
        ev("JobProgress", 3, { attempt: 1, percent: 50, message: "half" }),
        ev("JobProgress", 4, { attempt: 1, percent: 90 }),
        ev("JobFinished", 5, { attempt: 1, outcome: "succeeded", result: { value: shape + 1 } }),
      ];
    case 1:
      return [
        requested,
        ev("JobStarted", 1, { attempt: 1, runner: "r1" }),
        ev("JobProgress", 2, { attempt: 1, percent: 30 }),
        ev("JobAttemptFailed", 3, { attempt: 1, error: { code: "error", message: "boom" }, retryAt: time(4) }),
        ev("JobStarted", 5, { attempt: 2, runner: "r2" }),
        ev("JobProgress", 6, { attempt: 2, percent: 20 }),
        ev("JobFinished", 7, { attempt: 2, outcome: "succeeded", result: { value: shape + 1 } }),
      ];
    case 2:
      return [
        requested,
        ev("JobStarted", 1, { attempt: 1, runner: "r1" }),
        ev("JobProgress", 2, { attempt: 1, percent: 40 }),
        ev("JobFinished", 3, { attempt: 1, outcome: "failed", error: { code: "invalid_params", message: "no" } }),
      ];
    default:
      return [
        requested,
        ev("JobFinished", 1, { attempt: 0, outcome: "cancelled", error: { code: "cancelled", message: "by user" } }),
        ev("JobProgress", 2, { attempt: 1, percent: 70 }), // late: changes nothing
      ];
  }
}
