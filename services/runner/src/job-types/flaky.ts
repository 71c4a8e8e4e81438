import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";

/**
 * Fault injection for the fault tests (registered only with RUNNER_TEST_JOBS=1): the
 * first `failAttempts` attempts fail in the chosen way, the next one returns {attempt}.
 * - throw: a plain error (retried with backoff);
 * - exit:  the runner process exits at once, as in a crash (the job comes back after ack_wait);
 * - hang:  never returns and ignores its signal (ends only by the job's timeout).
 */
export default defineJobType({
  name: "flaky",
  description: "Test only: fails the first failAttempts attempts (throw, exit or hang), then returns {attempt}.",
  testOnly: true,
  params: Type.Object(
    {
      failAttempts: Type.Integer({ minimum: 0, maximum: 100 }),
      mode: Type.Union([Type.Literal("throw"), Type.Literal("exit"), Type.Literal("hang")]),
    },
    { additionalProperties: false },
  ),
  async run({ failAttempts, mode }, ctx) {
    if (ctx.attempt > failAttempts) return { attempt: ctx.attempt };
    ctx.log.warn({ mode }, "flaky job failing on purpose");
    if (mode === "exit") process.exit(1);
    if (mode === "hang") return new Promise(() => undefined);
    throw new Error(`flaky failure on attempt ${ctx.attempt}`);
  },
});
