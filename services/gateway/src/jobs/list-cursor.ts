import { parseJson } from "@jobs/core";
import type { ListPosition } from "../ports.ts";

/**
 * The `cursor` of `GET /job`: a listing position as base64url JSON. Opaque to clients
 * (they pass back the `next` they got); checked strictly here, since it comes back from
 * outside: anything that is not exactly a position decodes to null.
 */
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;

export function encodeCursor(pos: ListPosition): string {
  const value = pos.before === undefined ? { p: pos.page } : { p: pos.page, b: pos.before };
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor(cursor: string): ListPosition | null {
  if (!BASE64URL.test(cursor)) return null;
  const value = parseJson(Buffer.from(cursor, "base64url"));
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const { p, b, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || !isPositiveInteger(p) || (b !== undefined && !isPositiveInteger(b))) return null;
  return b === undefined ? { page: p } : { page: p, before: b };
}

const isPositiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
