import { describe, expect, it } from "vitest";
import { Type } from "typebox";
import { CommonEnv, ConfigError, loadConfig } from "../src/config.ts";

const Schema = Type.Object({
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  RATIO: Type.Number({ default: 0.5 }),
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(Schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies defaults and converts numbers", () => {
    const c = loadConfig(Schema, { PORT: "8080", RATIO: "0.25" });
    expect(c).toMatchObject({ PORT: 8080, RATIO: 0.25, NATS_URL: "nats://127.0.0.1:4222", JOBS_PREFIX: "jobs", LOG_LEVEL: "info" });
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig(Schema, { PORT: "" }).PORT).toBe(3000);
  });

  it("reports every problem at once, one line per variable", () => {
    const problems = problemsOf({ PORT: "http", LOG_LEVEL: "loud", JOBS_PREFIX: "A.B", RATIO: "x" });
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/PORT: must be an integer/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL: one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/);
    expect(problems.join("\n")).toMatch(/JOBS_PREFIX/);
    expect(problems.join("\n")).toMatch(/RATIO: must be a number/);
  });

  it("takes JOBS_REPLICAS 1 (the default) or 3, and names the variable for anything else", () => {
    expect(loadConfig(Schema, {}).JOBS_REPLICAS).toBe(1);
    expect(loadConfig(Schema, { JOBS_REPLICAS: "3" }).JOBS_REPLICAS).toBe(3);
    expect(loadConfig(Schema, { JOBS_REPLICAS: "1" }).JOBS_REPLICAS).toBe(1);
    for (const bad of ["2", "5", "0", "3x", "three", "-3"]) expect(problemsOf({ JOBS_REPLICAS: bad })).toEqual([`JOBS_REPLICAS: one of 1, 3 (got "${bad}")`]);
  });

  it("never truncates a number silently", () => {
    expect(problemsOf({ PORT: "80.5" })).toEqual(['PORT: must be an integer (got "80.5")']);
    expect(problemsOf({ PORT: "70000" })[0]).toMatch(/^PORT: /);
  });
});
