import { deepNest, ODD_NUMBERS, ODD_OBJECTS, randomJson, randomObject, randomString, Raw, toJsonText } from "./json-values.ts";
import type { Prng } from "./prng.ts";

/**
 * Bodies for `POST /job`: valid ones, and valid ones mutated one field at a time, at the
 * top level and inside the params of every job type the gateway lists. Valid bodies are
 * cheap to run on purpose (small params, short timeouts, few attempts): the fuzz is about
 * the gateway's answers, and a stack busy with long jobs could not show that a fresh job
 * still runs at the end. For the same reason no hostile value is a large *valid* one.
 */
export interface JobTypeInfo {
  name: string;
  params: { properties?: Record<string, unknown> };
}

const CHEAP_PARAMS: Record<string, (rng: Prng) => unknown> = {
  fibonacci: (rng) => ({ n: rng.int(0, 90) }),
  pi: (rng) => ({ digits: rng.int(1, 30) }),
  countdown: () => ({ seconds: 1 }),
  sum: (rng) => ({ a: rng.int(-1000, 1000) / 8, b: rng.int(-1000, 1000) }),
  sleep: (rng) => ({ ms: rng.int(0, 20) }),
  external: (rng) => randomJson(rng, 2),
};

const FAR_AHEAD = ["2100-01-01T00:00:00Z", "2500-06-15T12:00:00Z", "9999-12-31T23:59:59Z"];

export function validJobBody(rng: Prng, types: readonly JobTypeInfo[]): Record<string, unknown> {
  const type = rng.pick(types).name;
  const body: Record<string, unknown> = {
    type,
    params: CHEAP_PARAMS[type]?.(rng) ?? {},
    // An external job holds a runner slot until its timeout: keep that short.
    timeoutMs: rng.int(500, 3_000),
    maxAttempts: rng.int(1, 2),
  };
  if (rng.chance(0.5)) body.meta = randomObject(rng, 3);
  if (rng.chance(0.2)) {
    // Mostly due now or within 2 s; now and then centuries ahead (the last two past what an int64 of nanoseconds holds).
    body.runAt = rng.chance(0.9) ? new Date(Date.now() + rng.int(-60_000, 2_000)).toISOString() : rng.pick(FAR_AHEAD);
  }
  return body;
}

/** A value to put where a field was; none of them is a large valid number. */
export function hostileValue(rng: Prng): unknown {
  return rng.weighted<() => unknown>([
    [3, () => rng.pick([-1, 0, 1, 1.5, 2 ** 53, 1e308, -1e308, "1", "", " ", null, true, false, [], {}, [1], { a: 1 }])],
    [2, () => new Raw(rng.pick(ODD_NUMBERS))],
    [1, () => new Raw(rng.pick(ODD_OBJECTS))],
    [2, () => randomString(rng)],
    [1, () => deepNest(rng)],
    [2, () => randomJson(rng, 3)],
  ])();
}

const RUN_AT = [
  "2020-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "2016-12-31T23:59:60Z", "0000-01-01T00:00:00Z", "2024-01-01",
  "2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00.123456789Z", "now", "tomorrow", "2024-13-01T00:00:00Z",
  "1970-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "2024-01-01t00:00:00z",
];

/** A valid body with one field of its params changed, removed or added (or the params replaced). */
export function mutateParams(rng: Prng, types: readonly JobTypeInfo[]): Record<string, unknown> {
  const body = validJobBody(rng, types);
  const info = types.find((t) => t.name === body.type);
  const params = body.params;
  if (params === null || typeof params !== "object" || Array.isArray(params) || rng.chance(0.15)) {
    body.params = hostileValue(rng);
    return body;
  }
  const fields = Object.keys(info?.params.properties ?? params);
  const mutated: Record<string, unknown> = { ...(params as Record<string, unknown>) };
  const field = fields.length > 0 && rng.chance(0.8) ? rng.pick(fields) : randomString(rng).slice(0, 30);
  if (rng.chance(0.2)) delete mutated[field];
  else mutated[field] = hostileValue(rng);
  body.params = mutated;
  return body;
}

const TOP_FIELDS = ["type", "params", "meta", "maxAttempts", "timeoutMs", "runAt", "extra", "__proto__", "constructor"];

/** A valid body with one top-level field changed, removed or added. */
export function mutateTopLevel(rng: Prng, types: readonly JobTypeInfo[]): Record<string, unknown> | Raw {
  const body = validJobBody(rng, types);
  const field = rng.pick(TOP_FIELDS);
  if (field === "__proto__" || field === "constructor") {
    // A literal key: as a JS property these would not survive to the JSON text.
    const text = toJsonText(body);
    return new Raw(`{${JSON.stringify(field)}:${toJsonText(hostileValue(rng))},${text.slice(1)}`);
  }
  if (rng.chance(0.2)) delete body[field];
  else if (field === "runAt" && rng.chance(0.6)) body.runAt = rng.pick(RUN_AT);
  else if (field === "type" && rng.chance(0.5)) body.type = rng.pick([...types.map((t) => t.name.toUpperCase()), "flaky", "nope", " sum"]);
  else body[field] = hostileValue(rng);
  return body;
}
