import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";

/**
 * What `pnpm start` needs to bring up a local nats-server of its own: find the binary,
 * tell whether something already answers on a port, and wait until one does.
 */
export const LOCAL_NATS = { host: "127.0.0.1", port: 4222 } as const;

export const INSTALL_HINT = [
  "nats-server was not found on PATH or in /usr/sbin.",
  "Install it and run again:",
  "  Debian/Ubuntu: sudo apt-get install nats-server",
  "  elsewhere:     https://docs.nats.io/running-a-nats-service/introduction/installation",
  "Or point NATS_URL at a running server with JetStream enabled (nats-server -js).",
].join("\n");

/** The nats-server binary: $PATH first, then /usr/sbin (Debian's package puts it there, outside a user's PATH). */
export function findNatsServerBinary(path = process.env.PATH ?? ""): string | null {
  const dirs = [...path.split(delimiter).filter(Boolean), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, "nats-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** The arguments of the server `pnpm start` runs: JetStream on, loopback only, data under `storeDir`. */
export function localNatsArgs(storeDir: string, port: number = LOCAL_NATS.port): string[] {
  return ["-js", "-a", LOCAL_NATS.host, "-p", String(port), "-sd", storeDir];
}

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function isAcceptingConnections(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
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
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
