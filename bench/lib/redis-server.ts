import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "@jobs/service";
import { freePort } from "../../test/support/nats-server.ts";

export const REDIS_SERVER_BIN = "/usr/bin/redis-server";

export interface RedisServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The baseline's store: the OS package's redis-server on a free port with a temporary
 * directory, persisting as a careful BullMQ deployment would: an append-only file,
 * written before each reply and fsynced every second (`everysec`) or before the replies
 * of each event-loop turn (`always`); no RDB snapshots.
 */
export async function startRedis(opts: { appendfsync: "always" | "everysec" }): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", opts.appendfsync];
  args.push("--save", "", "--maxmemory-policy", "noeviction", "--protected-mode", "no");
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port, () => child.exitCode !== null);
  } catch (err) {
    await stop();
    throw new Error(`redis-server did not start: ${(err as Error).message}\n${output}`);
  }
  return { port, pid: child.pid!, stop };
}

async function waitForPing(port: number, dead: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (dead()) throw new Error("it exited");
    if (await ping(port)) return;
    await sleep(50);
  }
  throw new Error(`no PONG on port ${port}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export function redisVersion(): string {
  const out = spawnSync(REDIS_SERVER_BIN, ["--version"], { encoding: "utf8" });
  return /v=(\S+)/.exec(out.stdout ?? "")?.[1] ?? "not installed";
}
