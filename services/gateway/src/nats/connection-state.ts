import type { NatsConnection } from "@jobs/nats";

/**
 * Whether the NATS connection is up right now, from its status events. The client
 * queues publishes made while disconnected and may send them on reconnect, long after
 * the request that made them got its 503; checking first keeps "503 means not created"
 * true in that case and answers at once instead of after the publish timeout.
 */
export function trackConnection(nc: Pick<NatsConnection, "status" | "isClosed">): () => boolean {
  let up = true; // connectNats resolves once connected
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "close") up = false;
      else if (s.type === "reconnect") up = true;
    }
  })().catch(() => undefined);
  return () => up && !nc.isClosed();
}
