import { writeFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { join } from "node:path";
import { connect } from "@jobs/nats";
import { sleep } from "@jobs/service";

/**
 * What `pnpm start` needs to bring up a local nats-server of its own: tell whether (and
 * which) server already answers on a port, write the config of the one it runs, and wait
 * until it answers.
 */
export const LOCAL_NATS = { host: "127.0.0.1", port: 4222 } as const;

/**
 * The config of the server `pnpm start` runs: JetStream on, loopback only, data under
 * `storeDir`, and fsync before every acknowledgement (`sync_interval: always`), as every
 * server the project starts. Written to `storeDir/server.conf`; returns that path.
 */
export function writeLocalNatsConfig(storeDir: string, port: number = LOCAL_NATS.port): string {
  const file = join(storeDir, "server.conf");
  writeFileSync(
    file,
    [
      "# Written by `pnpm start` at every start; edit scripts/lib/nats-server.ts instead.",
      `listen: ${LOCAL_NATS.host}:${port}`,
      "max_payload: 1MB",
      `jetstream { store_dir: "${join(storeDir, "js")}", sync_interval: always }`,
      "",
    ].join("\n"),
  );
  return file;
}

/** The version the NATS server at host:port reports in its INFO, or null when none answers as NATS. */
export async function natsServerVersionAt(host: string, port: number): Promise<string | null> {
  try {
    const nc = await connect({ servers: `${host}:${port}`, reconnect: false, timeout: 2_000 });
    const version = nc.info?.version ?? null;
    await nc.close();
    return version;
  } catch {
    return null;
  }
}

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function isAcceptingConnections(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Polls until host:port accepts connections. Gives up (false) at the deadline or as soon
 * as `gaveUp()` says the server is not coming (it exited).
 */
export async function waitUntilAccepting(
  host: string,
  port: number,
  { timeoutMs = 15_000, gaveUp = () => false }: { timeoutMs?: number; gaveUp?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) return false;
    if (await isAcceptingConnections(host, port, 500)) return true;
    await sleep(100);
  }
  return false;
}
