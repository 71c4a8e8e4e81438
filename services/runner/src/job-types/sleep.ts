import { setTimeout as delay } from "node:timers/promises";
import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";

export default defineJobType({
  name: "sleep",
  description: "Waits ms milliseconds, then returns {ms}; ms 0 returns at once (the benchmarks' no-op job).",
  params: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 3_600_000 }) }, { additionalProperties: false }),
  async run({ ms }, ctx) {
    if (ms > 0) await delay(ms, undefined, { signal: ctx.signal });
    return { ms };
  },
});
