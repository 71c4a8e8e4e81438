import { fileURLToPath } from "node:url";
import { jobNames } from "@jobs/core";
import { connectNats, jetstreamManager, openViewBucket, type NatsConnection } from "@jobs/nats";
import { startNatsServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { startStack, type ServiceProcess, type Stack } from "../../test/support/services.ts";
import { now, waitUntil } from "./clock.ts";
import { DURABILITY, type Durability } from "./durability.ts";
import type { HeapProbe } from "./heap.ts";
import { HttpClient } from "./http-client.ts";
import { findPidByCommandLine } from "./proc-stats.ts";
import type { CompletionWatch, Role, SystemProcess, SystemUnderTest } from "./system.ts";

export interface OurSystem extends SystemUnderTest {
  /** Whether `GET /job?limit=` exists (the listing). */
  readonly listing: boolean;
  readonly runners: number;
  /** Starts one more runner process and waits until it pulls from the shared consumer. */
  addRunner(): Promise<void>;
  /** Its nats-server (the scale scenario restarts it on its store). */
  readonly nats: NatsServerHandle;
  /** The environment every service got (NATS_URL, JOBS_PREFIX, ...), bench instrumentation left out. */
  readonly serviceEnv: Record<string, string>;
  /** The tail of what each service printed (LOG_LEVEL=warn), for a failure's message. */
  logs(): string;
  /** Messages, subjects and bytes of each stream (events, view bucket, listing index, ...). */
  streamStates(): Promise<Record<string, { messages: number; subjects: number; bytes: number }>>;
}

export interface OurSystemOptions {
  runners: number;
  /** nats-server's sync_interval (durability.ts). */
  durability: Durability;
  /** RUNNER_CONCURRENCY of every runner. */
  concurrency: number;
  /** Writes a V8 CPU profile of every service into this directory when it exits. */
  cpuProfDir?: string;
  /** Environment that makes each service answer a HeapProbe. */
  heapProbeEnv?: ReturnType<HeapProbe["env"]>;
}

const CPU_PROFILER = fileURLToPath(new URL("./cpu-profiler.mjs", import.meta.url));
const QUIET_LOGGER = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Parameters<typeof connectNats>[0]["log"];

/**
 * A fresh deployment of our services: its own nats-server (free port, temporary store),
 * then projector, runners and gateway as separate processes (`node
 * services/<name>/src/main.ts`, as `pnpm start:<name>` runs them). The bench process
 * connects too, to watch the view bucket and the consumers.
 */
export async function startOurSystem(opts: OurSystemOptions): Promise<OurSystem> {
  const server = await startNatsServer({ syncInterval: DURABILITY[opts.durability].natsSyncInterval });
  let stack: Stack | undefined;
  let nc: NatsConnection | undefined;
  try {
    const names = jobNames("bench");
    const env: Record<string, string> = { LOG_LEVEL: "warn", RUNNER_CONCURRENCY: String(opts.concurrency) };
    const nodeOptions: string[] = [];
    if (opts.cpuProfDir) {
      nodeOptions.push(`--import ${CPU_PROFILER}`);
      env.BENCH_CPU_PROF_DIR = opts.cpuProfDir;
    }
    if (opts.heapProbeEnv) {
      nodeOptions.push(opts.heapProbeEnv.NODE_OPTIONS);
      env.BENCH_HEAP_DIR = opts.heapProbeEnv.BENCH_HEAP_DIR;
    }
    if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(" ");
    stack = await startStack({ natsUrl: server.url, prefix: names.prefix, runners: opts.runners, env });
    nc = await connectNats({ servers: server.url, name: "bench", log: QUIET_LOGGER });
    const jsm = await jetstreamManager(nc);
    const viewBucket = await openViewBucket(nc, names);
    const probe = new HttpClient(stack.baseUrl, stack.token, 1);
    const batch = !isMissingRoute((await probe.request("POST", "/job/batch", { jobs: [] })).status);
    const listing = !isMissingRoute((await probe.request("GET", "/job?limit=1")).status);
    probe.close();
    const firstServerPid = findPidByCommandLine(server.storeDir);
    const s = stack;
    const c = nc;

    const runnerPulls = async () => (await jsm.consumers.info(names.stream, names.runnerConsumer)).num_waiting;
    return {
      name: "ours",
      durability: opts.durability,
      nats: server,
      serviceEnv: Object.fromEntries(Object.entries(s.env).filter(([k]) => k !== "NODE_OPTIONS" && !k.startsWith("BENCH_"))),
      baseUrl: s.baseUrl,
      token: s.token,
      batch,
      listing,
      get runners() {
        return s.services.filter((p) => p.name === "runner").length;
      },
      // server.pid() follows a restart; it is nats-server itself (no shell between).
      processes: () => [{ role: "store", name: "nats-server", pid: server.pid() ?? firstServerPid }, ...serviceProcesses(s.services)],
      async watchSucceeded(onSucceeded): Promise<CompletionWatch> {
        // Only what changes from now on: the views of earlier runs are not this run's.
        const updates = await viewBucket.watch({ include: "updates" });
        const loop = (async () => {
          for await (const e of updates) {
            if (e.operation !== "PUT") continue;
            if (e.json<{ status: string }>().status === "succeeded") onSucceeded(e.key, now());
          }
        })();
        return {
          async stop() {
            updates.stop();
            await loop;
          },
        };
      },
      async storeWrites() {
        const out: Record<string, number> = {};
        for await (const info of jsm.streams.list()) out[info.config.name] = info.state.last_seq;
        return out;
      },
      logs: () =>
        s.services
          .map((p) => `--- ${p.name} (pid ${p.child.pid}) ---\n${p.output().slice(-4000)}`)
          .join("\n"),
      async streamStates() {
        const out: Record<string, { messages: number; subjects: number; bytes: number }> = {};
        for await (const info of jsm.streams.list()) out[info.config.name] = { messages: info.state.messages, subjects: info.state.num_subjects ?? 0, bytes: info.state.bytes };
        return out;
      },
      async waitIdle(timeoutMs = 600_000) {
        let left = "";
        await waitUntil(
          async () => {
            const [r, p] = await Promise.all([
              jsm.consumers.info(names.stream, names.runnerConsumer),
              jsm.consumers.info(names.stream, names.projectorConsumer),
            ]);
            left = `runners: ${r.num_pending} pending, ${r.num_ack_pending} unacked; projector: ${p.num_pending} pending, ${p.num_ack_pending} unacked`;
            return r.num_pending + r.num_ack_pending + p.num_pending + p.num_ack_pending === 0;
          },
          timeoutMs,
          () => `our system still busy (${left})`,
          250,
        );
      },
      async addRunner() {
        const before = s.services.filter((p) => p.name === "runner").length;
        s.start("runner");
        // An idle runner always has one pull request waiting on the consumer.
        await waitUntil(async () => (await runnerPulls()) > before, 30_000, () => `runner ${before + 1} never pulled:\n${s.logs()}`, 100);
      },
      async stop() {
        await c.close().catch(() => undefined);
        await s.stop();
        await server.dispose();
      },
    };
  } catch (err) {
    await nc?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    await server.dispose();
    throw err;
  }
}

function serviceProcesses(services: readonly ServiceProcess[]): SystemProcess[] {
  const counts = new Map<string, number>();
  return services
    .filter((p) => p.child.pid !== undefined && p.child.exitCode === null)
    .map((p) => {
      const n = (counts.get(p.name) ?? 0) + 1;
      counts.set(p.name, n);
      return { role: p.name as Role, name: p.name === "runner" ? `runner ${n}` : p.name, pid: p.child.pid! };
    });
}

/** 404 (no such route) or 405 (no such method): the feature is not built yet. */
export function isMissingRoute(status: number): boolean {
  return status === 404 || status === 405;
}
