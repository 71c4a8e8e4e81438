import type { JobTypeDescriptor } from "@jobs/core";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import type { Validator } from "typebox/compile";
import type { ValidationIssue } from "../http/errors.ts";
import { toValidationIssues } from "../http/validation-issues.ts";

/**
 * Checks a job's params against the JSON Schema its runner announced. Compiling a
 * schema costs far more than checking with it, so the checker is cached per descriptor
 * object; the catalogue replaces the object when a runner announces a changed schema,
 * which drops the stale checker with it.
 */
const checkers = new WeakMap<JobTypeDescriptor, Validator>();

function checkerFor(descriptor: JobTypeDescriptor): Validator {
  let checker = checkers.get(descriptor);
  if (checker === undefined) {
    // The descriptor's params is plain JSON Schema (from the types bucket); Compile accepts that too.
    checker = Compile(descriptor.params as TSchema) as Validator;
    checkers.set(descriptor, checker);
  }
  return checker;
}

/** The problems with `params`, each at its path under `/body/params`; empty when they are valid. */
export function paramsIssues(descriptor: JobTypeDescriptor, params: unknown): ValidationIssue[] {
  const checker = checkerFor(descriptor);
  if (checker.Check(params)) return [];
  return toValidationIssues("/body/params", checker.Errors(params));
}
