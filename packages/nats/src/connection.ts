import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/**
 * A connection that never gives up: the client's default (10 reconnect attempts, 2 s
 * apart) closes it for good after ~20 s of outage, which would leave a service up but
 * deaf. Status changes are logged so an outage is visible in every service's log.
 */
export async function connectNats(opts: { servers: string; name: string; log: Logger }): Promise<NatsConnection> {
  const servers = opts.servers.split(",").map((s) => s.trim()).filter(Boolean);
  const nc = await connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // Otherwise every request (each JetStream publish, ackAck, KV write) builds an Error up
    // front, in case it fails, to keep its caller's stack: a tenth to a sixth of each
    // service's busy CPU under load (`pnpm bench -- --cpu-prof`). Errors keep their type
    // and message; only a failed request's stack is shorter.
    noAsyncTraces: true,
  });
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
