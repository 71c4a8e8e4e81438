import { jobNames, type JobNames } from "@jobs/core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { expect } from "vitest";
import { eventually } from "./eventually.ts";
import { apiClient } from "./http.ts";
import { startNatsCluster, startNatsServer, testPrefix, type NatsClusterHandle, type NatsServerHandle } from "./nats-server.ts";
import { startStack, type ServiceProcess, type Stack } from "./services.ts";

/**
 * The whole service on its own nats-server (or three-node cluster) for a fault test:
 * named runners (RUNNER_ID, so a JobStarted tells which process ran the job), a test
 * connection that outlives NATS outages, and a teardown that never leaves a process behind.
 */
export interface FaultStack extends StackOnNats {
  nats: NatsServerHandle;
}

/** The same on a three-node cluster: NATS_URL lists every node, JOBS_REPLICAS is 3. */
export interface ClusterFaultStack extends StackOnNats {
  cluster: NatsClusterHandle;
}

interface StackOnNats {
  stack: Stack;
  names: JobNames;
  /** The test's own connection (reconnects forever, like the services'). */
  nc: NatsConnection;
  api: ReturnType<typeof apiClient>;
  /** The runner process started with this RUNNER_ID (the latest one, if reused). */
  runner(id: string): ServiceProcess;
  /** Starts another runner named `id`. */
  startRunner(id: string, env?: Record<string, string>): ServiceProcess;
  /** Starts another runner named `id` (logging at info) and waits until it says it pulls jobs. */
  startRunnerReady(id: string, env?: Record<string, string>): Promise<ServiceProcess>;
  /** The ids of the runners running now. */
  liveRunners(): string[];
  /** The live process of a service (the latest one started and not exited). */
  live(name: "gateway" | "projector"): ServiceProcess;
  /** Processes that exited while the test did not stop them: [] while all is well. */
  unexpectedExits(): string[];
  logs(): string;
  /** SIGTERM to every process still running (SIGKILL after `graceMs`), then the server(s) and store(s). */
  dispose(graceMs?: number): Promise<void>;
}

interface FaultStackOptions {
  label: string;
  runnerIds: string[];
  types?: string[];
  env?: Record<string, string>;
}

/** Starts the stack and waits until the gateway knows the job `types` the test sends (if given). */
export async function startFaultStack(opts: FaultStackOptions): Promise<FaultStack> {
  const nats = await startNatsServer();
  return { ...(await stackOn(nats, opts)), nats };
}

/**
 * The stack on a fresh three-node cluster, every service given all three URLs and
 * JOBS_REPLICAS=3 (and --trace-uncaught, so a process that dies says where it threw).
 */
export async function startClusterFaultStack(opts: FaultStackOptions): Promise<ClusterFaultStack> {
  const cluster = await startNatsCluster();
  return { ...(await stackOn(cluster, { ...opts, env: { JOBS_REPLICAS: "3", NODE_OPTIONS: [process.env.NODE_OPTIONS, "--trace-uncaught"].filter(Boolean).join(" "), ...opts.env } })), cluster };
}

async function stackOn(nats: { url: string; dispose(): Promise<void> }, opts: FaultStackOptions): Promise<StackOnNats> {
  const prefix = testPrefix(opts.label);
  const runners = new Map<string, ServiceProcess>();
  // Exits the test asked for (stop()) are expected; any other exit is a finding.
  const stoppedOnPurpose = new Set<ServiceProcess>();
  let stack: Stack | undefined;
  let nc: NatsConnection | undefined;
  try {
    stack = await startStack({ natsUrl: nats.url, prefix, runnerIds: opts.runnerIds, env: opts.env });
    // Every server of NATS_URL, as the services take it.
    nc = await connect({ servers: nats.url.split(","), maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 3_000, name: "fault-test" });
    const api = apiClient(stack.baseUrl, stack.token);
    const types = opts.types ?? [];
    await eventually(async () => expect((await api.get("/job-types")).body.items.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(types)), {
      timeoutMs: 20_000,
    });
  } catch (err) {
    await Promise.all(stack?.services.map((s) => s.stop("SIGKILL")) ?? []);
    await nc?.close().catch(() => undefined);
    await nats.dispose();
    throw err;
  }
  const s = stack;
  const track = (p: ServiceProcess) => {
    const stop = p.stop.bind(p);
    p.stop = (signal) => {
      stoppedOnPurpose.add(p);
      return stop(signal);
    };
    return p;
  };
  s.services.forEach(track);
  // Replacements the test starts (s.start) are tracked too.
  const startUntracked = s.start.bind(s);
  s.start = (name, env) => track(startUntracked(name, env));
  s.services.filter((p) => p.name === "runner").forEach((p, i) => runners.set(opts.runnerIds[i]!, p));
  const running = (p: ServiceProcess) => p.child.exitCode === null && p.child.signalCode === null;

  return {
    stack: s,
    names: jobNames(prefix),
    nc,
    api: apiClient(s.baseUrl, s.token),
    runner(id) {
      const p = runners.get(id);
      if (!p) throw new Error(`no runner named ${id} (have ${[...runners.keys()].join(", ")})`);
      return p;
    },
    startRunner(id, env = {}) {
      const p = s.start("runner", { RUNNER_ID: id, ...env });
      runners.set(id, p);
      return p;
    },
    async startRunnerReady(id, env = {}) {
      const p = s.start("runner", { RUNNER_ID: id, LOG_LEVEL: "info", ...env });
      runners.set(id, p);
      await eventually(() => expect(p.output(), `runner ${id} did not start`).toContain('"msg":"runner started"'), { timeoutMs: 30_000, intervalMs: 100 });
      return p;
    },
    liveRunners: () => [...runners].filter(([, p]) => running(p)).map(([id]) => id),
    live(name) {
      const p = s.services.filter((x) => x.name === name && running(x)).at(-1);
      if (!p) throw new Error(`no live ${name}:\n${s.logs()}`);
      return p;
    },
    unexpectedExits: () =>
      s.services.filter((p) => !running(p) && !stoppedOnPurpose.has(p)).map((p) => `${p.name} pid ${p.child.pid} exited (${p.child.exitCode ?? p.child.signalCode})`),
    logs: () => s.logs(),
    async dispose(graceMs = 15_000) {
      await Promise.all(
        s.services.filter(running).map(async (p) => {
          const forced = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
          await p.stop("SIGTERM");
          clearTimeout(forced);
        }),
      );
      await nc?.close().catch(() => undefined);
      await nats.dispose();
    },
  };
}
