import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";

/**
 * Starts a real nats-server for a test: a free port, a temporary JetStream store, and a
 * handle that stops it, restarts it on the same store (for outage tests) and removes
 * the store. Fails with a clear message when the binary is missing.
 */
export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** SIGTERM (or SIGKILL) the server and wait for it to exit; the store stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and store. */
  restart(): Promise<void>;
  /** Stop and delete the store. */
  dispose(): Promise<void>;
}

export function findNatsServer(): string {
  const candidates = [process.env.NATS_SERVER_BIN, "/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error("nats-server not found on PATH: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN");
}

export async function freePort(): Promise<number> {
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

export async function startNatsServer(): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "jobs-nats-"));
  const confFile = join(storeDir, "server.conf");
  writeFileSync(
    confFile,
    [`listen: 127.0.0.1:${port}`, `jetstream { store_dir: "${join(storeDir, "js")}" }`, `max_payload: 1MB`].join("\n"),
  );
  let child: ChildProcess | null = null;
  let output = "";

  const launch = async () => {
    output = "";
    child = spawn(bin, ["-c", confFile], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}):\n${output}`);
      try {
        const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 500 });
        // A connection alone is not enough: JetStream must answer too.
        await nc.request("$JS.API.INFO", undefined, { timeout: 1000 });
        await nc.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`nats-server did not become ready on port ${port}:\n${output}`);
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    restart: launch,
    async dispose() {
      await stop("SIGKILL");
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A unique, valid prefix per test so tests never see each other's streams. */
export function testPrefix(label = "t"): string {
  return `${label}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toLowerCase();
}
