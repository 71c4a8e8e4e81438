import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobNames } from "@jobs/core";
import { serverTooOld } from "@jobs/nats";
import { isAcceptingConnections, LOCAL_NATS, natsServerVersionAt, waitUntilAccepting } from "../../scripts/lib/nats-server.ts";
import { ensureTool, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";
import { eventually } from "../support/eventually.ts";
import { apiClient } from "../support/http.ts";
import { freePort, testPrefix } from "../support/nats-server.ts";

/**
 * `pnpm start` with NATS_URL unset, where no current nats-server answers on
 * 127.0.0.1:4222: it runs the pinned nats-server itself (on 4222 when nothing answers
 * there, on a free port when an older server holds it), with its data under .data/nats,
 * runs the services on it, and stops it with them on SIGTERM. When a current server
 * answers on 4222 `pnpm start` rightly uses that one, and this test has nothing to show:
 * it is skipped, saying so. (scripts/test/start.e2e.test.ts covers NATS_URL set.)
 *
 * The jobs of this test live in .data/nats, the store a developer's own `pnpm start`
 * uses; once everything has stopped, the test removes the store if it made it, or else
 * its own stream and buckets from it.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const STORE = join(ROOT, ".data", "nats");

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null | "timeout"> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => {
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

/** What `pnpm start` will find on 4222: nothing, an older server (or something that is not NATS), or a current one. */
async function onDefaultPort(): Promise<{ kind: "free" } | { kind: "old"; version: string | null } | { kind: "current"; version: string }> {
  const { host, port } = LOCAL_NATS;
  if (!(await isAcceptingConnections(host, port))) return { kind: "free" };
  const version = await natsServerVersionAt(host, port);
  return serverTooOld(version ?? undefined, `${host}:${port}`) === null ? { kind: "current", version: version! } : { kind: "old", version };
}

/**
 * Removes the test's stream and buckets from .data/nats: the pinned server, started on
 * that store on a free port once `pnpm start` and its server have stopped.
 */
async function removeFromStore(prefix: string): Promise<void> {
  if (!existsSync(join(STORE, "js"))) return;
  const dir = mkdtempSync(join(tmpdir(), "jobs-store-cleanup-"));
  const port = await freePort();
  const conf = join(dir, "server.conf");
  writeFileSync(conf, `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(STORE, "js")}" }\n`);
  const server = spawn(ensureTool(NATS_SERVER), ["-c", conf], { stdio: "ignore" });
  try {
    if (!(await waitUntilAccepting("127.0.0.1", port, { timeoutMs: 20_000, gaveUp: () => server.exitCode !== null }))) throw new Error("the clean-up server did not start");
    const nc = await connect({ servers: `127.0.0.1:${port}` });
    try {
      const jsm = await jetstreamManager(nc);
      const names = jobNames(prefix);
      const ours = [names.stream, ...[names.viewBucket, names.typesBucket, names.indexBucket, names.idempotencyBucket].map((b) => `KV_${b}`)];
      for (const stream of ours) await jsm.streams.delete(stream).catch(() => undefined);
    } finally {
      await nc.close();
    }
  } finally {
    server.kill("SIGTERM");
    await waitForExit(server, 10_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("pnpm start without NATS_URL", () => {
  it("runs the pinned nats-server of its own, runs a job on it, and stops it on SIGTERM", { timeout: 150_000 }, async (ctx) => {
    const found = await onDefaultPort();
    if (found.kind === "current") return ctx.skip(`a current nats-server (${found.version}) answers on 4222: pnpm start uses it and starts none`);

    // .data/nats as it was: a store of a developer's own keeps everything but this test's stream and buckets.
    const createdStore = !existsSync(STORE);
    const createdData = !existsSync(dirname(STORE));
    const port = await freePort();
    const prefix = testPrefix("own");
    const { NATS_URL: _unset, ...env } = process.env;
    const start = spawn(process.execPath, [join(ROOT, "scripts", "start.ts")], {
      cwd: ROOT,
      env: { ...env, JOBS_PREFIX: prefix, HOST: "127.0.0.1", PORT: String(port), RUNNER_REPLICAS: "1", API_TOKENS: "e2e:e2e-token", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    start.stdout?.on("data", (d) => (output += d));
    start.stderr?.on("data", (d) => (output += d));
    const failWith = (err: unknown): never => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- pnpm start output ---\n${output}`);
    };

    let natsPort: number | undefined;
    try {
      // It says which server it runs, where, and why.
      const started = await eventually(
        () => {
          const m = /starting (\S+) on 127\.0\.0\.1:(\d+) with its data in (.+)$/m.exec(output);
          expect(m, "no nats-server started").not.toBeNull();
          return { binary: m![1]!, port: Number(m![2]), store: m![3]!.trim() };
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      ).catch(failWith);
      natsPort = started.port;
      expect(started.binary).toBe(ensureTool(NATS_SERVER));
      expect(started.store).toBe(STORE);
      if (found.kind === "free") {
        expect(output).toContain(`nothing answers on 127.0.0.1:4222: starting`);
        expect(started.port).toBe(4222);
      } else {
        expect(output).toContain("NATS_URL is unset and nats-server at 127.0.0.1:4222: found");
        expect(started.port).not.toBe(4222);
      }
      const version = await eventually(async () => (await natsServerVersionAt("127.0.0.1", started.port)) ?? failWith("no NATS server answers there"), { timeoutMs: 30_000, intervalMs: 100 });
      expect(NATS_SERVER.accepts(version), version).toBe(true);

      // The services run on it: a job goes from POST to its result.
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), { timeoutMs: 60_000, intervalMs: 250 }).catch(failWith);
      const api = apiClient(`http://127.0.0.1:${port}`, "e2e-token");
      const created = await api.post("/job", { type: "sum", params: { a: 20, b: 22 } });
      expect(created.status, JSON.stringify(created.body)).toBe(202);
      const job = await eventually(
        async () => {
          const res = await api.get(`/job/${created.body.id}`);
          expect(res.body.status).toBe("succeeded");
          return res.body;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      ).catch(failWith);
      expect(job.result).toEqual({ value: 42 });

      // SIGTERM: the services, then its nats-server, and nothing is left listening.
      start.kill("SIGTERM");
      expect(await waitForExit(start, 60_000), output).toBe(0);
      expect(output).toContain("stopping nats-server");
      expect(await isAcceptingConnections("127.0.0.1", started.port)).toBe(false);
      expect(await isAcceptingConnections("127.0.0.1", port)).toBe(false);
    } finally {
      // start.ts stops its children on the way out; SIGKILL would orphan them.
      if (start.exitCode === null && start.signalCode === null) {
        start.kill("SIGTERM");
        if ((await waitForExit(start, 40_000)) === "timeout") start.kill("SIGKILL");
      }
      if (createdStore) rmSync(createdData ? dirname(STORE) : STORE, { recursive: true, force: true });
      else if (natsPort !== undefined) await removeFromStore(prefix);
    }
  });
});
