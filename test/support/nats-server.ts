import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { sleep } from "@jobs/service";
import { freePort, isAddressInUse } from "../../scripts/lib/free-port.ts";
import { ensureTool, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";
import { guardChild, guardFolder, installChildGuard, OWNER_FILE, releaseFolder } from "./child-guard.ts";

/**
 * Starts real nats-servers for tests and the benchmark: the pinned release, free ports, a
 * temporary JetStream store each, `sync_interval: always` as every server the project
 * starts, and handles that stop, kill and restart a server on its store (outage tests)
 * and remove it. One server, or a three-node cluster on loopback.
 */
export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** nats-server's own name in the cluster (`server_name`). */
  name: string;
  /** The server process's pid while it runs. */
  pid(): number | undefined;
  /** SIGTERM (or SIGKILL) the server and wait for it to exit; the store stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Start it again on the same port and store. Rejects with PortTakenError when another
   * process took the port while the server was down (its clients know only that port).
   */
  restart(): Promise<void>;
  /** Stop and delete the store. */
  dispose(): Promise<void>;
}

export interface NatsServerOptions {
  /** JetStream's `sync_interval`: `always` (fsync before every ack, the project's setting) or a duration such as `1s`. */
  syncInterval?: string;
}

export { freePort };

installChildGuard(); // before the first spawn: every child carries its owner's pid

/** The server could not listen: another process holds its port (client or cluster route). */
export class PortTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PortTakenError";
  }
}

let clusters = 0;

/** How often a first start moves to other ports when the ones it was given are taken meanwhile. */
const START_TRIES = 5;

/** A store folder of the test process's own: guarded (removed on any exit) and marked with its owner for the sweep. */
function storeFolder(): string {
  const dir = guardFolder(mkdtempSync(join(tmpdir(), "jobs-nats-")));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

interface ServerSpec {
  name: string;
  port: number;
  storeDir: string;
  syncInterval: string;
  cluster?: { name: string; port: number; routes: number[] };
  /** Wait for JetStream to answer (a lone node of a cluster without quorum never does). */
  waitForJetStream: boolean;
}

function serverConfig(spec: ServerSpec): string {
  const lines = [
    `server_name: ${spec.name}`,
    `listen: 127.0.0.1:${spec.port}`,
    `max_payload: 1MB`,
    `jetstream { store_dir: "${join(spec.storeDir, "js")}", sync_interval: ${spec.syncInterval} }`,
  ];
  if (spec.cluster) {
    const routes = spec.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    lines.push(`cluster { name: ${spec.cluster.name}, listen: 127.0.0.1:${spec.cluster.port}, routes: [${routes}] }`);
  }
  return lines.join("\n");
}

function serverHandle(spec: ServerSpec, bin: string): NatsServerHandle & { launch(wait: boolean): Promise<void> } {
  const confFile = join(spec.storeDir, "server.conf");
  writeFileSync(confFile, serverConfig(spec));
  let child: ChildProcess | null = null;
  let output = "";

  /** Starts the server and waits until it answers; `again` for a restart on the port it had. */
  const launch = async (waitForJetStream: boolean, again = false) => {
    output = "";
    const c = guardChild(spawn(bin, ["-c", confFile], { stdio: ["ignore", "pipe", "pipe"] }));
    child = c;
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.stdout?.on("data", (d) => (output += d));
    c.stderr?.on("data", (d) => (output += d));
    const ports = spec.cluster ? `${spec.port} (or its cluster port ${spec.cluster.port})` : String(spec.port);
    const taken = async (detail: string) => {
      await stop("SIGKILL");
      const why = again ? `cannot restart: port ${ports} was taken by another process while it was down` : `cannot listen: port ${ports} is taken by another process`;
      return new PortTakenError(`nats-server ${spec.name} ${why} (${detail})${output ? `:\n${output}` : ""}`);
    };
    // A generous deadline that only keeps a server that never comes up from hanging the test.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) {
        await closed; // all of its output
        if (isAddressInUse(output)) throw await taken("address already in use");
        throw new Error(`nats-server ${spec.name} exited (${c.exitCode}):\n${output}`);
      }
      try {
        const nc = await connect({ servers: `127.0.0.1:${spec.port}`, reconnect: false, timeout: 500 });
        try {
          // Another process's server on our port (ours could not listen) is not ours.
          if (nc.info?.server_name !== spec.name || nc.info?.cluster !== spec.cluster?.name) {
            throw await taken(`another NATS server answers there: ${nc.info?.server_name}${nc.info?.cluster ? ` of cluster ${nc.info.cluster}` : ""}`);
          }
          // A connection alone is not enough: JetStream must answer too.
          if (waitForJetStream) await nc.request("$JS.API.INFO", undefined, { timeout: 1000 });
          return;
        } finally {
          await nc.close();
        }
      } catch (err) {
        if (err instanceof PortTakenError) throw err;
        await sleep(50);
      }
    }
    throw new Error(`nats-server ${spec.name} did not become ready on port ${spec.port}:\n${output}`);
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill(signal);
    await exited;
  };

  return {
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    storeDir: spec.storeDir,
    name: spec.name,
    pid: () => (child && child.exitCode === null ? child.pid : undefined),
    stop,
    launch,
    restart: () => launch(spec.waitForJetStream, true),
    async dispose() {
      await stop("SIGKILL");
      rmSync(spec.storeDir, { recursive: true, force: true });
      releaseFolder(spec.storeDir);
    },
  };
}

/**
 * Tries `start` on fresh ports until no port it was given is taken (a free port is only
 * free a moment ago: another test file may take it before the server listens).
 */
async function onFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortTakenError) || tries === START_TRIES) throw err;
    }
  }
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = ensureTool(NATS_SERVER);
  return onFreshPorts(async () => {
    const port = await freePort();
    const handle = serverHandle({ name: `jobs-test-${process.pid}-${port}`, port, storeDir: storeFolder(), syncInterval: opts.syncInterval ?? "always", waitForJetStream: true }, bin);
    try {
      await handle.launch(true);
    } catch (err) {
      await handle.dispose();
      throw err;
    }
    return handle;
  });
}

export interface NatsClusterHandle {
  /** Every node's client URL, comma-separated: what NATS_URL gets. */
  url: string;
  nodes: NatsServerHandle[];
  /** Stop and remove every node. */
  dispose(): Promise<void>;
}

/**
 * Three nats-servers routed to each other on loopback (own store, `server_name` and
 * cluster port each), ready once JetStream answers through every node.
 */
export async function startNatsCluster(opts: NatsServerOptions & { size?: number } = {}): Promise<NatsClusterHandle> {
  const size = opts.size ?? 3;
  const bin = ensureTool(NATS_SERVER);
  return onFreshPorts(async () => {
    const clusterName = `jobs-test-${process.pid}-${++clusters}`;
    const clientPorts: number[] = [];
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) {
      clientPorts.push(await freePort());
      routePorts.push(await freePort());
    }
    const nodes = clientPorts.map((port, i) =>
      serverHandle(
        {
          name: `n${i + 1}`,
          port,
          storeDir: storeFolder(),
          syncInterval: opts.syncInterval ?? "always",
          cluster: { name: clusterName, port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i) },
          // A restarted node alone (the others down) has no meta leader: answering clients is enough.
          waitForJetStream: false,
        },
        bin,
      ),
    );
    const dispose = async () => {
      await Promise.all(nodes.map((n) => n.dispose()));
    };
    try {
      // All at once: JetStream in a cluster waits for a meta leader, which needs a majority.
      await Promise.all(nodes.map((n) => n.launch(false)));
      await Promise.all(nodes.map((n) => waitForJetStream(n.url)));
    } catch (err) {
      await dispose();
      throw err;
    }
    return { url: nodes.map((n) => n.url).join(","), nodes, dispose };
  });
}

/** Until JetStream answers through the server at `url` (a meta leader is elected). */
export async function waitForJetStream(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      try {
        await nc.request("$JS.API.INFO", undefined, { timeout: 2000 });
        return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  throw new Error(`JetStream did not answer through ${url} within ${timeoutMs} ms: ${String(last)}`);
}

/** A unique, valid prefix per test so tests never see each other's streams. */
export function testPrefix(label = "t"): string {
  return `${label}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toLowerCase();
}
