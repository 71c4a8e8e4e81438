import { Type, type Static, type TObject, type TProperties } from "typebox";
import { Value } from "typebox/value";

/**
 * Each service describes its environment as one TypeBox object with defaults; this
 * parses it once at start-up and reports every problem at once. Nothing else in a
 * service reads `process.env`.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig<T extends TObject>(schema: T, env: Record<string, string | undefined> = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const value = Value.Convert(schema, Value.Default(schema, raw));
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].map((e) => `${e.instancePath.slice(1) || "(root)"}: ${e.message} (got ${JSON.stringify(Value.Pointer.Get(raw, e.instancePath) ?? null)})`);
    throw new ConfigError(problems);
  }
  return value as Static<T>;
}

/** Settings every service shares. */
export const CommonEnv = {
  NATS_URL: Type.String({ default: "nats://127.0.0.1:4222", description: "NATS servers, comma-separated" }),
  /** Prefix of every stream, subject, consumer and bucket name; tests isolate themselves with it. */
  JOBS_PREFIX: Type.String({ default: "jobs", pattern: "^[a-z][a-z0-9_-]{0,30}$" }),
  LOG_LEVEL: Type.Union(
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    { default: "info" },
  ),
  NODE_ENV: Type.String({ default: "development" }),
} satisfies TProperties;
