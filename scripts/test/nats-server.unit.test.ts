import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../lib/free-port.ts";
import { isAcceptingConnections, waitUntilAccepting, writeLocalNatsConfig } from "../lib/nats-server.ts";

/** The helpers `pnpm start` uses around its local nats-server, without one: a config file and loopback ports of the test's own. */
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function listen(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(port, "127.0.0.1", () => resolve(server));
    cleanups.push(() => server.close());
  });
}

describe("local nats-server helpers", () => {
  it("writes the server `pnpm start` runs: JetStream with fsync before every ack, loopback, the given port and store", () => {
    const dir = mkdtempSync(join(tmpdir(), "jobs-conf-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const text = readFileSync(writeLocalNatsConfig(dir, 4333), "utf8");
    expect(text).toContain("listen: 127.0.0.1:4333");
    expect(text).toContain(`store_dir: "${join(dir, "js")}"`);
    expect(text).toMatch(/sync_interval: always/);
  });

  it("tells a port that accepts connections from one that does not", async () => {
    const port = await freePort();
    expect(await isAcceptingConnections("127.0.0.1", port)).toBe(false);
    await listen(port);
    expect(await isAcceptingConnections("127.0.0.1", port)).toBe(true);
  });

  it("waits until a port opens", async () => {
    const port = await freePort();
    let checks = 0;
    // gaveUp() is asked before each try: the port opens only after a first try found it closed.
    const gaveUp = () => {
      if (++checks === 2) void listen(port);
      return false;
    };
    expect(await waitUntilAccepting("127.0.0.1", port, { timeoutMs: 30_000, gaveUp })).toBe(true);
    expect(checks).toBeGreaterThanOrEqual(2);
  });

  it("gives up at once when told the server is not coming", async () => {
    const closed = await freePort();
    const waiting = waitUntilAccepting("127.0.0.1", closed, { timeoutMs: 30_000, gaveUp: () => true });
    // At once: before the event loop turns, so before any connection was even tried.
    const nextTurn = new Promise((resolve) => setImmediate(() => resolve("the next turn of the event loop")));
    expect(await Promise.race([waiting, nextTurn])).toBe(false);
  });
});
