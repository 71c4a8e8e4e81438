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
    expect([...config.adminTokens]).toEqual(["dev-admin-token"]);
  });

  it("reads ADMIN_TOKENS; no operator token by default once API_TOKENS is set, nor in production", () => {
    expect([...loadGatewayConfig({ ADMIN_TOKENS: " op1, op2 ," }).adminTokens]).toEqual(["op1", "op2"]);
    expect([...loadGatewayConfig({ API_TOKENS: "a:t" }).adminTokens]).toEqual([]);
    expect([...loadGatewayConfig({ API_TOKENS: "a:t", NODE_ENV: "production" }).adminTokens]).toEqual([]);
    expect([...loadGatewayConfig({ API_TOKENS: "a:t", ADMIN_TOKENS: "op", NODE_ENV: "production" }).adminTokens]).toEqual(["op"]);
  });

  it("refuses an operator token that is also an application's, without printing it", () => {
    expect(problemsOf({ API_TOKENS: "a:shared", ADMIN_TOKENS: "op,shared" })).toEqual(['ADMIN_TOKENS token 2: is also the token of application "a"']);
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
