import { mutateParams, mutateTopLevel, validJobBody, type JobTypeInfo } from "./job-bodies.ts";
import { randomJson, Raw, toJsonText } from "./json-values.ts";
import type { Prng } from "./prng.ts";

/** The gateway's body limit (services/gateway/src/app.ts DEFAULT_BODY_LIMIT). */
export const BODY_LIMIT = 512 * 1024;

/**
 * Request bodies as bytes: JSON of every shape (valid job bodies, mutated ones, other
 * values), JSON cut short, bytes that are not UTF-8, text that is not JSON, and bodies
 * a few bytes under, at and over the size limit.
 */
export function randomBody(rng: Prng, types: readonly JobTypeInfo[]): Buffer {
  const text = (value: unknown) => Buffer.from(toJsonText(value), "utf8");
  return rng.weighted<() => Buffer>([
    [3, () => text(validJobBody(rng, types))],
    [5, () => text(mutateParams(rng, types))],
    [4, () => text(mutateTopLevel(rng, types))],
    [2, () => text(randomJson(rng, 4))],
    [1, () => truncated(rng, text(validJobBody(rng, types)))],
    [1, () => notUtf8(rng, text(validJobBody(rng, types)))],
    [1, () => Buffer.from(rng.pick(NOT_QUITE_JSON), "utf8")],
    [0.4, () => nearLimit(rng, types)],
    [0.3, () => Buffer.alloc(0)],
    [0.3, () => text(completionBody(rng))],
  ])();
}

const NOT_QUITE_JSON = [
  "NaN", "null", "true", '"a string"', "{}", "[]", " ", "\ufeff{}", "{'type':'sum'}", "{type:\"sum\"}", '{"type":"sum",}',
  '{"type":"sum"}{"type":"sum"}', '{"type":"sum"} trailing', "undefined", "[1,]", "{\"a\":\u0001}", "\u0000", "1 2",
];

/** Bodies shaped for `POST /job/{id}/complete` and `/cancel`, valid or nearly. */
function completionBody(rng: Prng): unknown {
  return rng.pick<unknown>([
    { result: randomJson(rng, 3) }, { error: "failed outside" }, { error: { code: "x", message: "m" } }, { error: {} },
    { result: 1, error: "both" }, {}, { reason: "no longer needed" }, { reason: "" }, { reason: "r".repeat(2_000) },
    { result: new Raw("[".repeat(40) + "]".repeat(40)) },
  ]);
}

function truncated(rng: Prng, body: Buffer): Buffer {
  return body.subarray(0, rng.int(0, Math.max(0, body.length - 1)));
}

/** Bytes that are not UTF-8 (lone continuation bytes, overlongs, 0xFF) inside a string or anywhere. */
function notUtf8(rng: Prng, body: Buffer): Buffer {
  const bad = Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x28, 0xa1]]));
  const quote = body.indexOf('"', 1);
  const at = rng.chance(0.7) && quote > 0 ? quote + 1 : rng.int(0, body.length);
  return Buffer.concat([body.subarray(0, at), bad, body.subarray(at)]);
}

/** A valid job body padded in `meta` to a few bytes under, exactly at, or over the limit. */
function nearLimit(rng: Prng, types: readonly JobTypeInfo[]): Buffer {
  const body = validJobBody(rng, types);
  const target = BODY_LIMIT + rng.pick([-100, -1, 0, 1, 100, 200_000]);
  const base = Buffer.byteLength(toJsonText({ ...body, meta: { pad: "" } }));
  const pad = rng.chance(0.5) ? "x".repeat(Math.max(0, target - base)) : "é".repeat(Math.max(0, Math.floor((target - base) / 2)));
  return Buffer.from(toJsonText({ ...body, meta: { pad } }), "utf8");
}
