import type { Prng } from "./prng.ts";

/**
 * Random JSON for the fuzz: values of random shapes and depths, and raw JSON text that
 * JSON.stringify cannot produce (1e400, -0, NaN, huge integers, __proto__ keys,
 * duplicate keys, deep nesting), embedded with `Raw` and written by `toJsonText`.
 */
export class Raw {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text of a value whose leaves may be `Raw` text, written as is. */
export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Number tokens at and past the edges of what JSON and JavaScript agree on (some are not JSON at all). */
export const ODD_NUMBERS = [
  "1e400", "-1e400", "1E-400", "-0", "-0.0", "0e0", "123456789012345678901234567890", "9007199254740993",
  "1.7976931348623157e308", "5e-324", "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "1e", "--1",
] as const;

/** Objects whose keys poison or confuse naive JSON handling. */
export const ODD_OBJECTS = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":{"__proto__":null}}',
  '{"a":1,"a":2}',
  '{"":1}',
  '{"toString":1,"valueOf":2,"hasOwnProperty":3}',
  '{"\\u0000":0,"\\ud800":1}',
] as const;

const UNICODE = ["é", "ü", "✓", "😀", "👩‍👩‍👧", "\u202e", "\u0301", "中文", "\u0000", "\u001f", "\ufeff", "\ud800", "\udfff", "\u2028"];

export function randomString(rng: Prng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return "";
    case 1:
      return rng.pick(["a", "type", "fibonacci", "null", "true", "0", " ", "\\", '"', "/job", "%00", "<script>", "${x}"]);
    case 2:
      return Array.from({ length: rng.int(1, 12) }, () => rng.pick(UNICODE)).join("");
    case 3:
      return "x".repeat(rng.int(100, 5_000));
    default:
      return Array.from({ length: rng.int(1, 20) }, () => String.fromCharCode(rng.int(0x20, 0x7e))).join("");
  }
}

export function randomNumber(rng: Prng): number | Raw {
  return rng.weighted<() => number | Raw>([
    [3, () => rng.int(-10, 100)],
    [2, () => rng.int(-1e9, 1e9) / rng.int(1, 1000)],
    [1, () => rng.pick([0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e21])],
    [1, () => new Raw(rng.pick(ODD_NUMBERS))],
  ])();
}

/** A random JSON value, nesting at most `maxDepth` more levels. */
export function randomJson(rng: Prng, maxDepth = 4): unknown {
  const kinds: [number, () => unknown][] = [
    [2, () => null],
    [2, () => rng.chance(0.5)],
    [4, () => randomNumber(rng)],
    [4, () => randomString(rng)],
    [1, () => new Raw(rng.pick(ODD_OBJECTS))],
    [1, () => deepNest(rng)],
  ];
  if (maxDepth > 0) {
    kinds.push([3, () => Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, maxDepth - 1))]);
    kinds.push([3, () => randomObject(rng, maxDepth - 1)]);
  }
  return rng.weighted(kinds)();
}

export function randomObject(rng: Prng, maxDepth = 3): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = rng.int(0, 5); i > 0; i--) out[randomString(rng).slice(0, 40)] = randomJson(rng, maxDepth);
  return out;
}

/** Arrays or objects nested around the gateway's depth limit (32), or far past it. */
export function deepNest(rng: Prng): Raw {
  const depth = rng.pick([31, 32, 33, 100, 10_000, 100_000]);
  return rng.chance(0.5) ? new Raw("[".repeat(depth) + "]".repeat(depth)) : new Raw('{"a":'.repeat(depth) + "1" + "}".repeat(depth));
}
