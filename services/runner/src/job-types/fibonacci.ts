import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";
import { fibonacci } from "../compute/fibonacci.ts";

/** Above this n the BigInt work (milliseconds to tens of them) moves to a worker thread. */
const WORKER_THRESHOLD = 10_000;
const FIBONACCI = new URL("../compute/fibonacci.ts", import.meta.url).href;

export default defineJobType({
  name: "fibonacci",
  description: "F(n), the n-th Fibonacci number (F(0)=0, F(1)=1), as a decimal string.",
  params: Type.Object({ n: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false }),
  async run({ n }, ctx) {
    const value = n > WORKER_THRESHOLD ? await ctx.runInWorker<string>(FIBONACCI, "fibonacci", [n]) : fibonacci(n);
    return { value };
  },
});
