import { ConfigError } from "@jobs/service";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig, parseApiTokens } from "../src/config.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
};

describe("gateway config", () => {
  it("has the contract's defaults and the dev token outside production", () => {
    const config = loadGatewayConfig({});
    expect(config.env).toMatchObject({ HOST: "127.0.0.1", PORT: 3000, NATS_URL: "nats://127.0.0.1:4222", JOBS_PREFIX: "jobs", LOG_LEVEL: "info" });
    expect(config.devTokens).toBe(true);
    expect([...config.tokens]).toEqual([["dev-token", "dev"]]);
  });

  it("reads API_TOKENS, HOST and PORT", () => {
    const config = loadGatewayConfig({ API_TOKENS: " app1:tok1 , app2:t:o:k2,", HOST: "0.0.0.0", PORT: "8080", NODE_ENV: "production" });
    expect(config.devTokens).toBe(false);
    expect([...config.tokens]).toEqual([["tok1", "app1"], ["t:o:k2", "app2"]]);
    expect(config.env).toMatchObject({ HOST: "0.0.0.0", PORT: 8080 });
  });

  it("remembers Idempotency-Keys for 24 h unless IDEMPOTENCY_TTL_MS says otherwise", () => {
    expect(loadGatewayConfig({}).env.IDEMPOTENCY_TTL_MS).toBe(86_400_000);
    expect(loadGatewayConfig({ IDEMPOTENCY_TTL_MS: "3600000" }).env.IDEMPOTENCY_TTL_MS).toBe(3_600_000);
    expect(problemsOf({ IDEMPOTENCY_TTL_MS: "10" })).toEqual([expect.stringMatching(/^IDEMPOTENCY_TTL_MS: /)]);
  });

  it("admits only application names that are one NATS subject token (they start Idempotency-Key claim keys)", () => {
    expect([...parseApiTokens("a_b-9:t1,Z:t2").tokens.values()]).toEqual(["a_b-9", "Z"]);
    for (const name of ["a.b", "a.", "-a", "a*", "a>"]) {
      expect(parseApiTokens(`${name}:tok`).problems).toEqual([expect.stringContaining(`application name "${name}"`)]);
    }
  });

  it("refuses to start in production without API_TOKENS", () => {
    expect(problemsOf({ NODE_ENV: "production" })).toEqual([expect.stringContaining("API_TOKENS: required when NODE_ENV=production")]);
    expect(problemsOf({ NODE_ENV: "production", API_TOKENS: "  " })).toEqual([expect.stringContaining("required")]);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ PORT: "http", API_TOKENS: "nocolon,bad name:t,ok:" });
    expect(problems).toEqual([
      'PORT: must be an integer (got "http")',
      "API_TOKENS pair 1: expected app:token",
      expect.stringContaining('API_TOKENS pair 2: application name "bad name"'),
      expect.stringContaining("API_TOKENS pair 3 (ok): the token must be"),
    ]);
  });

  it("rejects one token given to two applications without printing it", () => {
    const { problems } = parseApiTokens("a:secret-1,b:secret-1");
    expect(problems).toEqual(['API_TOKENS pair 2 (b): the same token is already given to "a"']);
    expect(parseApiTokens(",").problems).toEqual(["API_TOKENS: no app:token pair found"]);
  });
});
