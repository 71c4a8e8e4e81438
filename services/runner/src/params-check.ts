import { Compile } from "typebox/compile";
import type { JobType } from "./job-type.ts";

/** Compiled params checkers, one per job type, built on first use. */
const checkers = new WeakMap<JobType, ReturnType<typeof Compile>>();

/** null when `params` fit the type's schema, else the problems (JSON path and message each). */
export function checkParams(type: JobType, params: unknown): string[] | null {
  let checker = checkers.get(type);
  if (checker === undefined) {
    checker = Compile(type.params);
    checkers.set(type, checker);
  }
  if (checker.Check(params)) return null;
  return [...checker.Errors(params)].slice(0, 10).map((e) => `${e.instancePath || "/"} ${e.message}`);
}
