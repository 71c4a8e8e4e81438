import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startNatsServer } from "../../test/support/nats-server.ts";
import { isAcceptingConnections, natsServerVersionAt, waitUntilAccepting, writeLocalNatsConfig } from "../lib/nats-server.ts";
import { NATS_SERVER } from "../lib/nats-tools.ts";

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

  it("reads the version a NATS server reports, and null where no NATS server answers", async () => {
    const nats = await startNatsServer();
    cleanups.push(() => void nats.dispose());
    expect(await natsServerVersionAt("127.0.0.1", nats.port)).toBe(NATS_SERVER.version);
    expect(await natsServerVersionAt("127.0.0.1", await freePort())).toBeNull();
  });

  it("tells a port that accepts connections from one that does not", async () => {
    const port = await freePort();
    expect(await isAcceptingConnections("127.0.0.1", port)).toBe(false);
    await listen(port);
    expect(await isAcceptingConnections("127.0.0.1", port)).toBe(true);
  });

  it("waits until a port opens, and gives up at once when told the server is not coming", async () => {
    const port = await freePort();
    setTimeout(() => void listen(port), 300);
    expect(await waitUntilAccepting("127.0.0.1", port, { timeoutMs: 5000 })).toBe(true);

    const closed = await freePort();
    const started = Date.now();
    expect(await waitUntilAccepting("127.0.0.1", closed, { timeoutMs: 5000, gaveUp: () => true })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
