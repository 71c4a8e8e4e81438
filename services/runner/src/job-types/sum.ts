import { Type } from "typebox";
import { defineJobType, NonRetryableError } from "../job-type.ts";

export default defineJobType({
  name: "sum",
  description: "a + b.",
  params: Type.Object({ a: Type.Number(), b: Type.Number() }, { additionalProperties: false }),
  run({ a, b }) {
    const value = a + b;
    // Two finite numbers can still overflow (1e308 + 1e308); JSON would turn Infinity into null.
    if (!Number.isFinite(value)) throw new NonRetryableError(`${a} + ${b} is not a finite number`, { code: "overflow" });
    return { value };
  },
});
