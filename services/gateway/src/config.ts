import { DEFAULT_IDEMPOTENCY_TTL_MS } from "@jobs/nats";
import { CommonEnv, ConfigError, loadConfig } from "@jobs/service";
import { Type, type Static } from "typebox";

/** The gateway's environment: everything it reads from process.env, with defaults. */
export const GatewayEnv = Type.Object({
  ...CommonEnv,
  HOST: Type.String({ default: "127.0.0.1", description: "Listen address" }),
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3000, description: "Listen port (0: any free port)" }),
  API_TOKENS: Type.Optional(Type.String({ description: "Application tokens: app:token pairs, comma-separated" })),
  ADMIN_TOKENS: Type.Optional(Type.String({ description: "Operator tokens, comma-separated: every application's jobs and the operator endpoints" })),
  IDEMPOTENCY_TTL_MS: Type.Integer({
    minimum: 1_000,
    default: DEFAULT_IDEMPOTENCY_TTL_MS,
    description: "How long an Idempotency-Key is remembered (ms); after that the same key creates a new job",
  }),
});
export type GatewayEnv = Static<typeof GatewayEnv>;

/** Used only outside production when API_TOKENS is unset; main.ts prints it at start-up. */
export const DEV_API_TOKENS = "dev:dev-token";
/** Used only outside production when API_TOKENS and ADMIN_TOKENS are both unset; main.ts prints it too. */
export const DEV_ADMIN_TOKENS = "dev-admin-token";

export interface GatewayConfig {
  env: GatewayEnv;
  /** token -> application name */
  tokens: Map<string, string>;
  /** Operator tokens. */
  adminTokens: Set<string>;
  /** True when the development tokens are in use (API_TOKENS unset outside production). */
  devTokens: boolean;
}

// One NATS subject token: the application name is the first token of its Idempotency-Key claims' KV keys.
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const TOKEN = /^[\x21-\x7e]+$/; // visible ASCII: what fits in an Authorization header unquoted

/** Parses `app1:tok1,app2:tok2`; every problem is reported, not just the first. */
export function parseApiTokens(text: string): { tokens: Map<string, string>; problems: string[] } {
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  const pairs = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (pairs.length === 0) problems.push("API_TOKENS: no app:token pair found");
  pairs.forEach((pair, i) => {
    const colon = pair.indexOf(":");
    const app = colon < 0 ? "" : pair.slice(0, colon).trim();
    const token = colon < 0 ? "" : pair.slice(colon + 1).trim();
    const where = `API_TOKENS pair ${i + 1}`; // never echo the token itself into logs
    if (colon < 0) problems.push(`${where}: expected app:token`);
    else if (!APP_NAME.test(app)) problems.push(`${where}: application name "${app}" must be 1-64 letters, digits, "_" or "-", starting with a letter or digit`);
    else if (!TOKEN.test(token)) problems.push(`${where} (${app}): the token must be non-empty visible ASCII without spaces`);
    else if (tokens.has(token)) problems.push(`${where} (${app}): the same token is already given to "${tokens.get(token)}"`);
    else tokens.set(token, app);
  });
  return { tokens, problems };
}

/** Parses `tok1,tok2`; a token that is also an application's is refused (who would it be?). */
export function parseAdminTokens(text: string, appTokens: ReadonlyMap<string, string>): { tokens: Set<string>; problems: string[] } {
  const tokens = new Set<string>();
  const problems: string[] = [];
  text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .forEach((token, i) => {
      const where = `ADMIN_TOKENS token ${i + 1}`; // never echo the token itself into logs
      if (!TOKEN.test(token)) problems.push(`${where}: must be visible ASCII without spaces`);
      else if (appTokens.has(token)) problems.push(`${where}: is also the token of application "${appTokens.get(token)}"`);
      else tokens.add(token);
    });
  return { tokens, problems };
}

/**
 * Reads and checks the configuration once at start-up; throws ConfigError listing every
 * problem. Without API_TOKENS the gateway refuses to run in production and otherwise
 * falls back to the development token.
 */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  const problems: string[] = [];
  let env: GatewayEnv | undefined;
  try {
    env = loadConfig(GatewayEnv, source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const production = (env?.NODE_ENV ?? source.NODE_ENV) === "production";
  const given = source.API_TOKENS?.trim() ? source.API_TOKENS : undefined;
  if (given === undefined && production) {
    problems.push("API_TOKENS: required when NODE_ENV=production (app:token pairs, comma-separated); the development token is never used in production");
  }
  const parsed = parseApiTokens(given ?? DEV_API_TOKENS);
  problems.push(...parsed.problems);
  // Operators have no development default once real application tokens are set, nor in production.
  const admin = source.ADMIN_TOKENS?.trim() ? source.ADMIN_TOKENS : given === undefined && !production ? DEV_ADMIN_TOKENS : "";
  const adminParsed = parseAdminTokens(admin, parsed.tokens);
  problems.push(...adminParsed.problems);
  if (problems.length > 0 || env === undefined) throw new ConfigError(problems);
  return { env, tokens: parsed.tokens, adminTokens: adminParsed.tokens, devTokens: given === undefined };
}
