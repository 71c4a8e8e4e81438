import { Type, type Static, type TObject, type TProperties } from "typebox";
import { Value } from "typebox/value";

/**
 * Each service describes its environment as one TypeBox object with defaults; this
 * parses it once at start-up and reports every problem at once. Nothing else in a
 * service reads `process.env`.
 */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
    this.name = "ConfigError";
  }
}

export function loadConfig<T extends TObject>(schema: T, env: Record<string, string | undefined> = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, prop] of Object.entries(schema.properties) as [string, { type?: string; description?: string }][]) {
    const value = env[key];
    if (value === undefined || value === "") continue;
    // Value.Convert would turn "80.5" into 80 and "3x" into NaN: numbers are checked as text first.
    if (prop.type === "integer" && !/^-?\d+$/.test(value.trim())) problems.push(`${key}: must be an integer (got ${JSON.stringify(value)})`);
    else if (prop.type === "number" && !Number.isFinite(Number(value))) problems.push(`${key}: must be a number (got ${JSON.stringify(value)})`);
    else raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, { ...raw }));
  if (problems.length === 0 && Value.Check(schema, value)) return value as Static<T>;
  // One problem per variable, however many branches of a union failed.
  const seen = new Set(problems.map((p) => p.slice(0, p.indexOf(":"))));
  for (const e of Value.Errors(schema, value)) {
    const key = e.instancePath.split("/")[1] || "(root)";
    if (seen.has(key)) continue;
    seen.add(key);
    const prop = (schema.properties as Record<string, { anyOf?: { const?: unknown }[] }>)[key];
    const allowed = prop?.anyOf?.every((b) => b.const !== undefined) ? `one of ${prop.anyOf.map((b) => b.const).join(", ")}` : e.message;
    problems.push(`${key}: ${allowed} (got ${JSON.stringify(env[key] ?? null)})`);
  }
  throw new ConfigError(problems);
}

/** Settings every service shares. */
export const CommonEnv = {
  NATS_URL: Type.String({ default: "nats://127.0.0.1:4222", description: "NATS servers, comma-separated" }),
  /** Prefix of every stream, subject, consumer and bucket name; tests isolate themselves with it. */
  JOBS_PREFIX: Type.String({ default: "jobs", pattern: "^[a-z][a-z0-9_-]{0,30}$" }),
  /**
   * Replicas of the stream, its consumers and every bucket: 1, or 3 on a three-server
   * cluster (then any one server can be down). An existing stream or bucket with another
   * count is changed to this one at start-up.
   */
  JOBS_REPLICAS: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 1, description: "replicas of the stream and buckets: 1, or 3 on a three-server cluster" }),
  LOG_LEVEL: Type.Union(
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    { default: "info" },
  ),
  NODE_ENV: Type.String({ default: "development" }),
} satisfies TProperties;
