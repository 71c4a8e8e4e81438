import type { Logger } from "pino";

/**
 * Shutdown is a signal: the first SIGTERM/SIGINT aborts one AbortController that the
 * service's loops and jobs listen to, then `stop` runs (finish, hand back, drain).
 * A second signal forces the exit.
 */
export function onShutdown(log: Logger, stop: (signal: AbortSignal) => Promise<void>): AbortSignal {
  const controller = new AbortController();
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal: sig }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal: sig }, "shutting down");
    controller.abort();
    stop(controller.signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return controller.signal;
}
