import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StartupError } from "@jobs/service";
import type { Logger } from "pino";

/**
 * The oldest nats-server the services run on: fsync before every ack (`sync_interval`),
 * expected-last-subject checks over a wildcard. The one place that names it: `pnpm start`
 * asks serverTooOld() too before it uses a server on 4222.
 */
export const MIN_SERVER_VERSION = [2, 15] as const;

/** Null when `version` is new enough, else what to tell the person starting the service. */
export function serverTooOld(version: string | undefined, server: string): string | null {
  const m = /^v?(\d+)\.(\d+)\./.exec(version ?? "");
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const [needMajor, needMinor] = MIN_SERVER_VERSION;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return null;
  return `nats-server at ${server}: found ${version ?? "an unknown version"}, needs ${needMajor}.${needMinor} or later (run \`pnpm nats-server:path\` for the pinned one, or unset NATS_URL and let \`pnpm start\` run it)`;
}

/**
 * A connection that never gives up: the client's default (10 reconnect attempts, 2 s
 * apart) closes it for good after ~20 s of outage, which would leave a service up but
 * deaf. Status changes are logged so an outage is visible in every service's log. A
 * server older than MIN_SERVER_VERSION is refused with a StartupError.
 */
export async function connectNats(opts: { servers: string; name: string; log: Logger }): Promise<NatsConnection> {
  const servers = opts.servers.split(",").map((s) => s.trim()).filter(Boolean);
  const nc = await connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // How long one dial may take (default 20 s). A server that is shutting down can still
    // accept a reconnect and send its INFO, then close without the PONG; the client waits
    // the whole timeout before it tries the next server, so a gateway on a three-server
    // cluster was "not connected" for 20 s after one server stopped, though two were up.
    timeout: 3_000,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // Otherwise every request (each JetStream publish, ackAck, KV write) builds an Error up
    // front, in case it fails, to keep its caller's stack; what that cost under load is in
    // bench/README.md ("Async traces in nats.js"). Errors keep their type and message;
    // only a failed request's stack is shorter.
    noAsyncTraces: true,
  });
  const refused =
    serverTooOld(nc.info?.version, nc.getServer()) ??
    (nc.info?.jetstream === false ? `nats-server at ${nc.getServer()} runs without JetStream: start it with -js (or jetstream {} in its config)` : null);
  if (refused) {
    await nc.close();
    throw new StartupError(refused);
  }
  opts.log.info({ server: nc.getServer(), version: nc.info?.version }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        opts.log[s.type === "reconnect" ? "info" : "warn"]({ status: s.type, server: "server" in s ? s.server : undefined }, `NATS ${s.type}`);
      }
    }
  })().catch(() => undefined);
  return nc;
}
