import pino from "pino";
import { describe, expect, it } from "vitest";
import { defineJobType, NonRetryableError } from "../src/job-type.ts";
import { AttemptAborted, runAttempt, toJobError } from "../src/run-attempt.ts";
import { Type } from "typebox";

const log = pino({ level: "silent" });
const typeRunning = (run: (signal: AbortSignal) => Promise<unknown> | unknown) =>
  defineJobType({ name: "t", description: "test", params: Type.Object({}), run: (_p, ctx) => run(ctx.signal) });
const attempt = (run: (signal: AbortSignal) => Promise<unknown> | unknown, controller = new AbortController(), timeoutMs = 60_000) =>
  runAttempt({ type: typeRunning(run), params: {}, jobId: "j", attempt: 1, timeoutMs, controller, log, progress: () => undefined });
/** A job that never ends by itself (it ignores its signal, as job code may). */
const forever = () => new Promise<never>(() => undefined);

describe("runAttempt", () => {
  it("gives the job's result, its error (retryable or not), in the outcome", async () => {
    expect(await attempt(() => ({ value: 3 }))).toEqual({ kind: "succeeded", result: { value: 3 } });
    expect(await attempt(() => Promise.reject(Object.assign(new Error("boom"), { code: "upstream" })))).toEqual({
      kind: "failed",
      error: { code: "upstream", message: "boom" },
      retryable: true,
    });
    expect(await attempt(() => Promise.reject(new NonRetryableError("bad input", { code: "bad" })))).toMatchObject({ kind: "failed", retryable: false });
  });

  it("stops waiting at once when aborted, whatever the job does: a timeout fails, a shutdown interrupts, an ending elsewhere drops", async () => {
    const timedOut = await attempt(forever, new AbortController(), 1);
    expect(timedOut).toEqual({ kind: "failed", error: { code: "timeout", message: "timed out after 1 ms" }, retryable: true });

    for (const [why, kind] of [["shutdown", "interrupted"], ["finished", "finished-elsewhere"]] as const) {
      const controller = new AbortController();
      const running = attempt(forever, controller);
      controller.abort(new AttemptAborted(why, why));
      expect(await running).toEqual({ kind });
    }
  });
});

describe("toJobError", () => {
  it.each([
    ["an Error with a sane code", Object.assign(new Error("boom"), { code: "ECONNRESET" }), { code: "ECONNRESET", message: "boom" }],
    ["an Error without a code", new Error("boom"), { code: "error", message: "boom" }],
    ["a code that is not a word", Object.assign(new Error("boom"), { code: "no spaces allowed" }), { code: "error", message: "boom" }],
    ["a thrown string", "plain", { code: "error", message: "plain" }],
    ["an Error without a message", new Error(""), { code: "error", message: "Error" }],
  ])("%s", (_, thrown, expected) => {
    expect(toJobError(thrown)).toEqual(expected);
  });

  it("keeps at most 4000 characters of the message", () => {
    expect(toJobError(new Error("x".repeat(5_000))).message).toHaveLength(4_000);
  });
});
