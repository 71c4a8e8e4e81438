import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Ports below this are left to well-known services. */
const LOWEST = 10_000;

/**
 * A TCP port on 127.0.0.1 that nothing listened on a moment ago. Drawn at random below
 * the kernel's range of ephemeral ports (Linux: ip_local_port_range), which outgoing
 * connections and `listen(0)` take theirs from: a server stopped for a restart finds its
 * port again. Where that range is unknown (or leaves no room), the kernel picks one.
 * Free only "a moment ago": whoever starts a server on it retries with another port when
 * the server finds it taken (isAddressInUse).
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow();
  if (below !== null && below - LOWEST > 1_000) {
    for (let i = 0; i < 20; i++) {
      const port = LOWEST + Math.floor(Math.random() * (below - LOWEST));
      if (await canListen(port)) return port;
    }
  }
  return kernelPort();
}

/** True for what a server says (or throws) when its port is taken: Go's "address already in use", Node's EADDRINUSE. */
export function isAddressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE/i.test(text);
}

function ephemeralLow(): number | null {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : null;
  } catch {
    return null;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
