import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serverTooOld } from "@jobs/nats";
import { freePort } from "./lib/free-port.ts";
import { isAcceptingConnections, LOCAL_NATS, natsServerVersionAt, waitUntilAccepting, writeLocalNatsConfig } from "./lib/nats-server.ts";
import { ensureTool, NATS_SERVER, ToolMissingError } from "./lib/nats-tools.ts";
import { jobTypesAnnounced } from "./lib/job-types-announced.ts";
import { formatPrefix } from "./lib/prefix-lines.ts";
import { parseRunnerReplicas, serviceSpecs, StartError } from "./lib/service-specs.ts";
import { SupervisedProcess } from "./lib/supervise.ts";

/**
 * `pnpm start`: the whole service on one machine. Runs the gateway, the projector and
 * RUNNER_REPLICAS runners under a supervisor that restarts what crashes. When NATS_URL is
 * unset it uses a current server answering on 127.0.0.1:4222, or else runs the pinned
 * nats-server itself (building it first if need be) with its data under .data/nats: on
 * 4222 when nothing answers there, on a free port when an older server holds 4222. The
 * first SIGINT/SIGTERM stops the services, then that nats-server; a second one kills
 * everything.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** How long a service gets to finish or hand back its work after SIGTERM. */
const SERVICE_GRACE_MS = 20_000;
const NATS_GRACE_MS = 10_000;
/** How long the gateway waits for the runners' job types before starting anyway. */
const TYPES_WAIT_MS = 30_000;
/** Signals closer than this to the first one count as the same signal. */
const SAME_SIGNAL_MS = 1000;

const prefix = formatPrefix("start", 97, process.stderr);
const log = (message: string) => process.stderr.write(message.split("\n").map((line) => `${prefix}${line}\n`).join(""));

/** The processes this run supervises; `nats` is set only when it runs a nats-server of its own. */
let services: SupervisedProcess[] = [];
let nats: SupervisedProcess | null = null;
let stopping = false;

/**
 * Starts the pinned nats-server on `port` (kept in `nats` at once, so a signal meanwhile
 * stops it too) and returns its URL.
 */
async function startLocalNats(port: number, why: string): Promise<string> {
  let binary: string;
  try {
    binary = ensureTool(NATS_SERVER, log);
  } catch (err) {
    throw err instanceof ToolMissingError ? new StartError(err.message) : err;
  }
  const storeDir = join(ROOT, ".data", "nats");
  mkdirSync(storeDir, { recursive: true });
  const config = writeLocalNatsConfig(storeDir, port);
  log(`${why}: starting ${binary} on ${LOCAL_NATS.host}:${port} with its data in ${storeDir}`);
  // nats-server shuts down cleanly on either signal but reports SIGINT with exit code 0.
  const spec = { name: "nats", command: binary, args: ["-c", config], color: 90, stopSignal: "SIGINT" as const };
  const server = new SupervisedProcess(spec, { log });
  nats = server;
  server.start();
  const up = await waitUntilAccepting(LOCAL_NATS.host, port, { gaveUp: () => stopping || server.unexpectedExits > 0 });
  if (!up && !stopping) throw new StartError(`nats-server did not start (its output is above, prefixed "nats |")`);
  return `nats://${LOCAL_NATS.host}:${port}`;
}

/** NATS_URL unset: a current server on 4222, or one of our own (on another port when an older one holds 4222). */
async function localNatsUrl(): Promise<string> {
  const { host, port } = LOCAL_NATS;
  if (!(await isAcceptingConnections(host, port))) return startLocalNats(port, `nothing answers on ${host}:${port}`);
  const version = await natsServerVersionAt(host, port);
  const tooOld = serverTooOld(version ?? undefined, `${host}:${port}`);
  if (!tooOld) {
    log(`NATS_URL is unset: using nats-server ${version} already answering on ${host}:${port}`);
    return `nats://${host}:${port}`;
  }
  return startLocalNats(await freePort(), `NATS_URL is unset and ${tooOld.slice(0, tooOld.indexOf(" ("))}`);
}

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  log(`${signal}: stopping the services (up to ${SERVICE_GRACE_MS / 1000} s; a second signal kills them)`);
  await Promise.all(services.map((s) => s.stop(SERVICE_GRACE_MS)));
  if (nats) {
    log("stopping nats-server");
    await nats.stop(NATS_GRACE_MS);
  }
  log("all stopped");
  process.exit(0);
}

function handleSignals(): void {
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // One Ctrl-C can arrive twice (from the terminal and relayed by a wrapper such as
      // pnpm). Only a later one means "kill it now".
      if (Date.now() - firstSignalAt < SAME_SIGNAL_MS) return;
      log(`second ${signal}: killing everything`);
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    void stopAll(signal);
  };
  // SIGHUP too: the children run in their own process groups, so a closed terminal reaches only us.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  // pnpm does not pass SIGTERM on to its script: when whoever started us goes away we
  // are re-parented, and that is our cue to stop the services as if signalled.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) onSignal("SIGHUP");
  }, 500).unref();
  // Last resort for any way out (an exception, process.exit): leave no process behind.
  process.on("exit", () => [...services, ...(nats ? [nats] : [])].forEach((p) => p.kill()));
}

async function main(): Promise<void> {
  handleSignals();
  const replicas = parseRunnerReplicas(process.env.RUNNER_REPLICAS);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.env.NATS_URL) {
    log(`using NATS_URL=${process.env.NATS_URL}`);
  } else {
    env.NATS_URL = await localNatsUrl();
    log(`NATS_URL=${env.NATS_URL}`);
  }
  // A signal while nats-server was coming up: stopAll is already taking it down.
  if (stopping) return;

  services = serviceSpecs(ROOT, replicas, env).map((spec) => new SupervisedProcess(spec, { log }));
  // Runners and projector first; the gateway once a runner has announced its job types, so
  // that a client posting as soon as /readyz answers 200 never meets "unknown job type".
  const [gateway, ...others] = services;
  log(`starting ${others.map((s) => s.spec.name).join(", ")}`);
  for (const service of others) service.start();
  const announced = await jobTypesAnnounced(env.NATS_URL!, env.JOBS_PREFIX || "jobs", TYPES_WAIT_MS).catch(() => false);
  if (stopping) return;
  if (!announced) log(`no job type announced after ${TYPES_WAIT_MS / 1000} s (are the runners failing? see above): starting the gateway anyway`);
  log(`starting ${gateway!.spec.name}`);
  gateway!.start();
}

main().catch((err: unknown) => {
  log(err instanceof StartError ? err.message : `failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
