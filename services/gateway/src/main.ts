import { jobNames } from "@jobs/core";
import { connectNats, type NatsConnection } from "@jobs/nats";
import { createLogger, exitOnBadStart, onShutdown } from "@jobs/service";
import { buildApp, type App } from "./app.ts";
import { DEV_ADMIN_TOKENS, DEV_API_TOKENS, loadGatewayConfig } from "./config.ts";
import { natsAppDeps } from "./nats/deps.ts";

/** The gateway process: config, NATS, the app, listen; on SIGTERM finish requests, then drain NATS. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const { env } = config;
  const log = createLogger("gateway", env.LOG_LEVEL);
  if (config.devTokens) {
    log.warn(
      { API_TOKENS: DEV_API_TOKENS },
      `API_TOKENS is not set: using the development token (app "dev", send "Authorization: Bearer dev-token"); set API_TOKENS for anything real`,
    );
    if (config.adminTokens.has(DEV_ADMIN_TOKENS)) {
      log.warn(`ADMIN_TOKENS is not set: the development operator token is "${DEV_ADMIN_TOKENS}"; set ADMIN_TOKENS (or none) for anything real`);
    }
  }

  let app: App | undefined;
  let nc: NatsConnection | undefined;
  const signal = onShutdown(log, async () => {
    await app?.close(); // stops accepting, lets in-flight requests finish
    await nc?.drain(); // then flushes what they published
  });

  try {
    const names = jobNames(env.JOBS_PREFIX);
    nc = await connectNats({ servers: env.NATS_URL, name: "gateway", log });
    const deps = await natsAppDeps({ nc, names, log, signal, idempotencyTtlMs: env.IDEMPOTENCY_TTL_MS, replicas: env.JOBS_REPLICAS });
    log.info({ types: deps.types.list().map((t) => t.name) }, "job types loaded");
    app = buildApp({ ...deps, tokens: config.tokens, adminTokens: config.adminTokens, logger: log });
    if (!signal.aborted) {
      const url = await app.listen({ host: env.HOST, port: env.PORT });
      log.info({ url, prefix: names.prefix, stream: names.stream, replicas: env.JOBS_REPLICAS }, `gateway listening on ${url}`);
    }
  } catch (err) {
    await nc?.close().catch(() => undefined);
    throw err;
  }
}

main().catch((err: unknown) => exitOnBadStart("gateway", err));
