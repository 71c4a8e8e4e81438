import { expect } from "vitest";
import type { JobNames } from "@jobs/core";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { sleep } from "@jobs/service";
import { eventually } from "./eventually.ts";
import type { apiClient, ApiResponse } from "./http.ts";
import type { NatsClusterHandle, NatsServerHandle } from "./nats-server.ts";

/**
 * What the cluster fault tests need beyond the fault stack: which node leads a stream,
 * whether every replica is caught up, and an API client that checks every answer the
 * gateway gives against the contract while faults happen.
 */

/** The node (by its server_name) that leads `stream` now; waits for an election if none does. */
export async function streamLeader(nc: NatsConnection, cluster: NatsClusterHandle, stream: string, timeoutMs = 20_000): Promise<NatsServerHandle> {
  const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
  return eventually(
    async () => {
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      const node = cluster.nodes.find((n) => n.name === leader);
      if (!node) throw new Error(`stream ${stream} has no leader among ${cluster.nodes.map((n) => n.name).join(", ")} (got ${leader})`);
      return node;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** The stream and every bucket of the service, and the consumers, by their JetStream names. */
export function replicatedAssets(names: JobNames): { streams: string[]; consumers: string[] } {
  return {
    streams: [names.stream, ...[names.viewBucket, names.typesBucket, names.indexBucket, names.idempotencyBucket].map((b) => `KV_${b}`)],
    consumers: [names.runnerConsumer, names.projectorConsumer],
  };
}

/**
 * Per stream and consumer, how the cluster sees `node`: "leader", "current" (a replica
 * that is caught up: current, no lag) or what is wrong with it.
 */
export async function replicaStateOf(jsm: JetStreamManager, names: JobNames, node: string): Promise<Record<string, string>> {
  const { streams, consumers } = replicatedAssets(names);
  const out: Record<string, string> = {};
  const judge = (cluster: { leader?: string; replicas?: { name: string; current: boolean; offline?: boolean; lag?: number }[] } | undefined) => {
    if (cluster?.leader === node) return "leader";
    const r = cluster?.replicas?.find((x) => x.name === node);
    if (!r) return `not a replica (leader ${cluster?.leader}, replicas ${cluster?.replicas?.map((x) => x.name).join(",")})`;
    if (r.offline) return "offline";
    return r.current && !r.lag ? "current" : `behind (current ${r.current}, lag ${r.lag ?? 0})`;
  };
  for (const s of streams) out[s] = judge((await jsm.streams.info(s)).cluster);
  for (const c of consumers) out[c] = judge((await jsm.consumers.info(names.stream, c)).cluster);
  return out;
}

/** Until every stream and consumer of the service has `node` as its leader or as a caught-up replica. */
export async function expectNodeCaughtUp(nc: NatsConnection, names: JobNames, node: string, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
  await eventually(
    async () => {
      const states = await replicaStateOf(jsm, names, node);
      expect(Object.values(states).every((s) => s === "leader" || s === "current"), JSON.stringify(states)).toBe(true);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

type Api = ReturnType<typeof apiClient>;

/**
 * Wraps the test's API client: every answer is held to the contract during a fault.
 * A `202` to POST /job adds the job to `accepted`; from then on a `404` for it is a
 * violation (never 404 after its own 202), and so is any 5xx other than a `503` with
 * `Retry-After`. Counts every status per method, for the test's own assertions.
 */
export function contractCheckedApi(api: Api) {
  const accepted = new Set<string>();
  const acceptedAt = new Map<string, number>();
  const violations: string[] = [];
  const statuses = { POST: new Map<number, number>(), GET: new Map<number, number>() };
  const check = (method: "GET" | "POST", path: string, res: ApiResponse) => {
    statuses[method].set(res.status, (statuses[method].get(res.status) ?? 0) + 1);
    const what = `${method} ${path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
    if (res.status >= 500 && !(res.status === 503 && Number(res.headers.get("retry-after")) > 0)) violations.push(`a 5xx other than 503 + Retry-After: ${what}`);
    const id = /^\/job\/([^/?]+)$/.exec(path)?.[1];
    if (method === "GET" && id && accepted.has(id) && res.status === 404) {
      violations.push(`404 for a job that got a 202 ${Date.now() - acceptedAt.get(id)!} ms earlier (at ${new Date().toISOString()}): ${what}`);
    }
    // 202, or 200 for a repeated Idempotency-Key: either way the job exists from now on.
    if (method === "POST" && path === "/job" && (res.status === 202 || res.status === 200)) {
      const { id: created } = res.body as { id: string };
      accepted.add(created);
      acceptedAt.set(created, Date.now());
    }
    return res;
  };
  const checked: Api = {
    get: async (path) => check("GET", path, await api.get(path)),
    post: async (path, body, headers) => check("POST", path, await api.post(path, body, headers)),
  };
  return {
    api: checked,
    accepted,
    violations,
    /** How often `method` was answered with `status`. */
    count: (method: "GET" | "POST", status: number) => statuses[method].get(status) ?? 0,
    statuses: () => JSON.stringify({ POST: Object.fromEntries(statuses.POST), GET: Object.fromEntries(statuses.GET) }),
  };
}

/**
 * GETs the accepted jobs over and over (newest first, then the rest round robin) until
 * `stop()` is called, through a contract-checked client: a 404 for any of them is found
 * while it happens, not only once the jobs have ended.
 */
export function pollAccepted(checked: ReturnType<typeof contractCheckedApi>, concurrency = 4): { stop(): Promise<number> } {
  let running = true;
  let polls = 0;
  let cursor = 0;
  const worker = async () => {
    while (running) {
      const ids = [...checked.accepted];
      if (ids.length === 0) {
        await sleep(20);
        continue;
      }
      // Every other poll the newest job (right after its 202 is when a 404 would show), else the next in turn.
      const id = polls % 2 === 0 ? ids[ids.length - 1]! : ids[cursor++ % ids.length]!;
      await checked.api.get(`/job/${id}`).catch(() => undefined);
      polls++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return polls;
    },
  };
}

/** What happened to one job a client insisted on: its id once accepted, and every status it was answered. */
export interface InsistedJob {
  id?: string;
  statuses: number[];
  error?: string;
}

/**
 * One body as a well-behaved client sends it: POST /job with `key`, a 503 retried after
 * `retryMs` (the client's back-off, not a wait for a condition) until a 202 (or 200: the
 * key's job exists) or the deadline; any other status or a connection error ends the
 * tries. Everything it was answered goes into `job`.
 */
async function insist(api: Api, body: unknown, key: string, job: InsistedJob, deadline: () => number, retryMs = 250): Promise<void> {
  while (Date.now() < deadline()) {
    const res = await api.post("/job", body, { "idempotency-key": key }).catch((err: Error) => err);
    if (res instanceof Error) {
      job.error = res.message;
      return;
    }
    job.statuses.push(res.status);
    if (res.status === 202 || res.status === 200) {
      job.id = (res.body as { id: string }).id;
      return;
    }
    if (res.status !== 503) return;
    await sleep(retryMs);
  }
}

/**
 * Sends each body as POST /job with its own Idempotency-Key (`${keyPrefix}-${index}`),
 * `concurrency` at a time, as a well-behaved client does: a 503 is retried with the same
 * key after `retryMs` until a 202 (or 200: the key's job exists) or `deadlineMs` runs
 * out. `onDone` hears each body's end (a test faults the system mid-burst with it).
 * Any other status or a connection error ends that body's tries and is kept.
 */
export async function postInsisting(
  api: Api,
  bodies: readonly unknown[],
  opts: { concurrency: number; keyPrefix: string; retryMs?: number; deadlineMs: number; onDone?: (done: number) => void },
): Promise<InsistedJob[]> {
  const out: InsistedJob[] = bodies.map(() => ({ statuses: [] }));
  const deadline = Date.now() + opts.deadlineMs;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const job = out[i]!;
      await insist(api, bodies[i], `${opts.keyPrefix}-${i}`, job, () => deadline, opts.retryMs);
      opts.onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return out;
}

/**
 * Jobs flowing for as long as a test needs: `concurrency` clients each post the next body
 * (`bodyOf(i)`) with its own Idempotency-Key, retrying 503s as postInsisting does, then
 * pause `pauseMs`. `stop()` takes no new body, lets the ones under way be accepted, and
 * returns every body's outcome, in order.
 */
export function startFlow(
  api: Api,
  opts: { concurrency: number; pauseMs: number; keyPrefix: string; bodyOf: (i: number) => unknown; retryMs?: number },
): { accepted(): number; stop(deadlineMs?: number): Promise<{ body: unknown; job: InsistedJob }[]> } {
  let running = true;
  let next = 0;
  let deadline = Number.POSITIVE_INFINITY;
  const out: { body: unknown; job: InsistedJob }[] = [];
  const worker = async () => {
    while (running) {
      const i = next++;
      const body = opts.bodyOf(i);
      const job: InsistedJob = { statuses: [] };
      out[i] = { body, job };
      await insist(api, body, `${opts.keyPrefix}-${i}`, job, () => deadline, opts.retryMs);
      await sleep(opts.pauseMs); // the flow's pace
    }
  };
  const workers = Array.from({ length: opts.concurrency }, worker);
  return {
    accepted: () => out.filter((o) => o?.job.id !== undefined).length,
    async stop(deadlineMs = 30_000) {
      running = false;
      deadline = Date.now() + deadlineMs;
      await Promise.all(workers);
      return out;
    },
  };
}
