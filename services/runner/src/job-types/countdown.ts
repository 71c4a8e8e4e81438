import { setTimeout as delay } from "node:timers/promises";
import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";

export default defineJobType({
  name: "countdown",
  description: "Counts down the given seconds, reporting progress every second.",
  params: Type.Object({ seconds: Type.Integer({ minimum: 1, maximum: 3600 }) }, { additionalProperties: false }),
  async run({ seconds }, ctx) {
    ctx.progress(0, `${seconds} s left`);
    const start = Date.now();
    for (let elapsed = 1; elapsed <= seconds; elapsed++) {
      // Aim at the absolute second so the ticks do not drift with timer lateness.
      await delay(Math.max(0, start + elapsed * 1000 - Date.now()), undefined, { signal: ctx.signal });
      ctx.progress((elapsed / seconds) * 100, `${seconds - elapsed} s left`);
    }
    return { seconds };
  },
});
