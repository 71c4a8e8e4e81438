import type { ValidationIssue } from "./errors.ts";

/** The parts of a TypeBox (or Ajv-style) validation error this module reads. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

const MAX_ISSUES = 50;

/** Escapes one property name as a JSON pointer token (RFC 6901). */
export const pointerToken = (name: string): string => name.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Turns schema errors into one issue per bad field, each with the JSON pointer of the
 * field in the request: `base` is where the validated value sits (`/body`,
 * `/body/params`, `/querystring`), and the error's instancePath is appended. A missing
 * or forbidden property is reported at the property's own path (`/body/type`), not at
 * its parent object, so a client can point at the field.
 */
export function toValidationIssues(base: string, errors: readonly SchemaError[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}\n${message}`;
    if (seen.has(key) || issues.length >= MAX_ISSUES) return;
    seen.add(key);
    issues.push({ path, message });
  };
  for (const e of errors) {
    const at = base + e.instancePath;
    const names = (key: string): string[] => {
      const list = e.params?.[key];
      return Array.isArray(list) ? list.map(String) : [];
    };
    if (e.keyword === "required") {
      for (const name of names("requiredProperties")) add(`${at}/${pointerToken(name)}`, "is required");
    } else if (e.keyword === "additionalProperties") {
      for (const name of names("additionalProperties")) add(`${at}/${pointerToken(name)}`, "is not allowed");
    } else if (e.keyword === "boolean" && e.schemaPath?.endsWith("/additionalProperties")) {
      // TypeBox reports a forbidden property twice (as `false` schema and as additionalProperties): keep the clearer one.
      continue;
    } else if (e.keyword === "enum" && names("allowedValues").length > 0) {
      add(at, `must be one of: ${names("allowedValues").join(", ")}`);
    } else {
      add(at, e.message ?? `fails ${e.keyword}`);
    }
  }
  return issues;
}

/** One line naming every issue, for the problem's `detail`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path} ${i.message}`).join("; ");
}
