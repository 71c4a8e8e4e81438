/**
 * A reason a service cannot start that the person starting it can act on (an old
 * nats-server, a bad setting): said in one line, without a stack trace.
 */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * Reports a failed start on stderr (a StartupError or ConfigError as its message alone,
 * anything else with its stack) and exits 1. The one way a service reports a bad start:
 * each main.ts ends with `main().catch((err) => exitOnBadStart("<service>", err))`.
 */
export function exitOnBadStart(service: string, err: unknown): never {
  const plain = err instanceof StartupError || (err instanceof Error && err.name === "ConfigError");
  const text = plain ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${service}: ${plain ? "" : "failed to start: "}${text}\n`);
  process.exit(1);
}
