import { createHash } from "node:crypto";

/**
 * What decides whether a repeated Idempotency-Key comes with "the same body": the body
 * as parsed JSON, not as bytes. Object keys are sorted at every level, so whitespace
 * and key order do not make another body; array order and every value do.
 */

/** JSON with object keys sorted recursively (by UTF-16 code units, the same on every gateway). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical JSON of a parsed request body. */
export function bodyHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}
