import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";

/** The computation lives in a module without dependencies: a worker imports it in milliseconds. */
const PI_DIGITS = new URL("../compute/pi-digits.ts", import.meta.url).href;

export default defineJobType({
  name: "pi",
  description: "π with the given number of digits after the point, truncated, as a string \"3.14159...\".",
  params: Type.Object({ digits: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false }),
  async run({ digits }, ctx) {
    // Always in a worker: even 10 000 digits would block the runner's event loop.
    return { value: await ctx.runInWorker<string>(PI_DIGITS, "pi", [digits]) };
  },
});
