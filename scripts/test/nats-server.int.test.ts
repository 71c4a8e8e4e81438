import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/nats-server.ts";
import { findNatsServerBinary, isAcceptingConnections, localNatsArgs, waitUntilAccepting } from "../lib/nats-server.ts";

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
  it("finds nats-server on PATH before /usr/sbin", () => {
    const dir = mkdtempSync(join(tmpdir(), "jobs-bin-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const fake = join(dir, "nats-server");
    writeFileSync(fake, "#!/bin/sh\n");
    chmodSync(fake, 0o755);
    expect(findNatsServerBinary(`/nonexistent:${dir}`)).toBe(fake);
  });

  it("runs the server the contract describes: JetStream, loopback, 4222, data in the given directory", () => {
    expect(localNatsArgs("/repo/.data/nats")).toEqual(["-js", "-a", "127.0.0.1", "-p", "4222", "-sd", "/repo/.data/nats"]);
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
