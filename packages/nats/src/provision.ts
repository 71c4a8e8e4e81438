import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import { jetstreamManager } from "./clients.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JobNames } from "@jobs/core";
import { sleep, StartupError } from "@jobs/service";
import { isCreationRace, isNotFound, isTransient, needsCluster } from "./errors.ts";

/**
 * Creates (or checks) everything the services need in JetStream. Idempotent: every
 * service calls it at start-up, whichever comes first creates, the others find.
 */

/** How long a runner may go without acking or signalling `working()` before its job is handed to another runner. */
export const RUNNER_ACK_WAIT_MS = 30_000;
export const NANOS_PER_MS = 1_000_000;
/** How long the projector's consumer waits for an ack before redelivering (after a projector crash). */
export const PROJECTOR_ACK_WAIT_MS = 10_000;

/**
 * How many copies JetStream keeps of the stream and of each bucket (JOBS_REPLICAS): 1, or
 * 3 on a three-server cluster, where a write is acknowledged once two servers have it and
 * any one server can be down. Given, a new stream or bucket is created with it and an
 * existing one with another count is changed to it, so switching a deployment from 1 to 3
 * takes effect on the next start. Left out (tests, tools that only read), a new one gets
 * 1 and an existing one is left as it is: a reader never rescales a deployment.
 */
export interface ReplicaOptions {
  replicas?: number;
}

export function streamConfig(names: JobNames, opts: ReplicaOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: names.stream,
    subjects: [...names.streamSubjects],
    // Limits retention with no limits: nothing is ever removed. WorkQueue or Interest
    // retention would delete acknowledged events and break history and rebuilds.
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    deny_delete: true,
    deny_purge: true,
    allow_direct: true,
    duplicate_window: 2 * 60 * 1000 * NANOS_PER_MS,
    num_replicas: opts.replicas ?? 1,
  };
}

export async function ensureStream(jsm: JetStreamManager, names: JobNames, opts: ReplicaOptions = {}): Promise<void> {
  try {
    await whileTransient(() => ensureStreamOnce(jsm, names, opts));
  } catch (err) {
    if (!needsCluster(err)) throw err;
    throw new StartupError(
      `JOBS_REPLICAS=${opts.replicas} needs a cluster of three nats-servers (all of them in NATS_URL), but the server answering is not in a cluster: run a cluster, or set JOBS_REPLICAS=1`,
    );
  }
}

async function ensureStreamOnce(jsm: JetStreamManager, names: JobNames, opts: ReplicaOptions): Promise<void> {
  const wanted = streamConfig(names, opts);
  try {
    const info = await jsm.streams.info(names.stream);
    const c = info.config;
    const drift: string[] = [];
    if (c.retention !== RetentionPolicy.Limits) drift.push(`retention is ${c.retention}`);
    if (!c.deny_delete || !c.deny_purge) drift.push("delete or purge is allowed");
    if (drift.length > 0) {
      throw new StartupError(`stream ${names.stream} exists with unsafe settings (${drift.join(", ")}); refusing to run on it`);
    }
    const rescale = opts.replicas !== undefined && c.num_replicas !== opts.replicas;
    if (rescale || !c.allow_direct || names.streamSubjects.some((s) => !c.subjects?.includes(s))) {
      await jsm.streams.update(names.stream, {
        ...c,
        allow_direct: true,
        subjects: [...new Set([...(c.subjects ?? []), ...names.streamSubjects])],
        num_replicas: opts.replicas ?? c.num_replicas,
      });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await createdDespiteRace(() => jsm.streams.add(wanted));
  }
  await untilServing(jsm, names.stream, opts.replicas);
}

/*
 * The consumers leave num_replicas unset (0): JetStream gives them the stream's count and
 * rescales them with it, so a stream changed from 1 to 3 replicas takes its consumers along.
 */

/**
 * The runners' shared consumer. `ackWaitMs` (default RUNNER_ACK_WAIT_MS) is how soon a
 * crashed runner's job goes to another runner; an existing consumer with another
 * ack_wait is updated to it, so changing the setting takes effect on the next start
 * (runners must agree on it: the last one started wins).
 */
export async function ensureRunnerConsumer(jsm: JetStreamManager, names: JobNames, opts: { ackWaitMs?: number } = {}): Promise<void> {
  const ackWait = (opts.ackWaitMs ?? RUNNER_ACK_WAIT_MS) * NANOS_PER_MS;
  const { config } = await ensureConsumer(jsm, names.stream, {
    durable_name: names.runnerConsumer,
    filter_subject: names.requestFilter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWait,
    // Retries are naks with a delay decided by the runner; a crashed runner's job comes
    // back after ack_wait. The runner that sees the last attempt fail ends the job
    // itself, so the server never gives up on a message on its own.
    max_deliver: -1,
    max_ack_pending: 20_000,
  });
  if (config.ack_wait !== ackWait) await whileTransient(() => jsm.consumers.update(names.stream, names.runnerConsumer, { ack_wait: ackWait }));
}

export async function ensureProjectorConsumer(jsm: JetStreamManager, names: JobNames): Promise<void> {
  await ensureConsumer(jsm, names.stream, {
    durable_name: names.projectorConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // A flush takes milliseconds; what a crashed projector held comes back after this.
    ack_wait: PROJECTOR_ACK_WAIT_MS * NANOS_PER_MS,
    max_deliver: -1,
    max_ack_pending: 10_000,
  });
}

/** The consumer's info: the existing one as found, or the one just created. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Parameters<JetStreamManager["consumers"]["add"]>[1]): Promise<ConsumerInfo> {
  return whileTransient(async () => {
    try {
      return await jsm.consumers.info(stream, config.durable_name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return jsm.consumers.add(stream, config);
    }
  });
}

export async function openViewBucket(nc: NatsConnection, names: JobNames, opts: ReplicaOptions = {}): Promise<KV> {
  // history 1: the bucket is a derived view; the stream is the history.
  return openBucket(nc, names.viewBucket, { allow_direct: true }, opts);
}

/** How long an Idempotency-Key is remembered when the gateway is not told otherwise. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The bucket of Idempotency-Key claims. `ttlMs` (the bucket's max_age) is how long a key
 * is remembered: after it, the same key creates a new job. An existing bucket gets the
 * configured ttl too, so changing the setting takes effect on the next start.
 * No direct get: a gateway that lost a create race must read the winner's claim at once,
 * and only the stream leader promises that (direct gets may be served by a replica).
 */
export async function openIdempotencyBucket(nc: NatsConnection, names: JobNames, opts: { ttlMs?: number } & ReplicaOptions = {}): Promise<KV> {
  const ttlMs = opts.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const maxAge = ttlMs * NANOS_PER_MS;
  // The server refuses a duplicate window longer than max_age; this is its own default for a new stream.
  return openBucket(nc, names.idempotencyBucket, { ttl: ttlMs, allow_direct: false }, opts, {
    max_age: maxAge,
    duplicate_window: Math.min(maxAge, 2 * 60 * 1000 * NANOS_PER_MS),
  });
}

export async function openTypesBucket(nc: NatsConnection, names: JobNames, opts: ReplicaOptions = {}): Promise<KV> {
  return openBucket(nc, names.typesBucket, {}, opts);
}

/**
 * The listing index (see @jobs/core job-index.ts), derived from the stream like the view
 * bucket. No direct get: its pages are read-modify-written under revision checks by
 * every projector, and a writer that lost a race must read the winner's page at once,
 * which only the stream leader promises.
 */
export async function openIndexBucket(nc: NatsConnection, names: JobNames, opts: ReplicaOptions = {}): Promise<KV> {
  return openBucket(nc, names.indexBucket, { allow_direct: false }, opts);
}

/** Every bucket: history 1, file storage, the replica count (see ReplicaOptions), and `settings` on its stream. */
async function openBucket(nc: NatsConnection, bucket: string, options: Partial<KvOptions>, opts: ReplicaOptions, settings: Partial<StreamConfig> = {}): Promise<KV> {
  return whileTransient(async () => {
    const kv = await createdDespiteRace(() => new Kvm(nc).create(bucket, { history: 1, storage: StorageType.File, ...options, replicas: opts.replicas ?? 1 }));
    await reconcileBucket(nc, bucket, opts, settings);
    return kv;
  });
}

/**
 * Kvm.create finds an existing bucket as it is: this brings its stream to the wanted
 * replica count (when given, see ReplicaOptions) and to `settings`, with one update when
 * anything differs.
 */
async function reconcileBucket(nc: NatsConnection, bucket: string, opts: ReplicaOptions, settings: Partial<StreamConfig> = {}): Promise<void> {
  const wanted: Partial<StreamConfig> = { ...settings, ...(opts.replicas === undefined ? {} : { num_replicas: opts.replicas }) };
  if (Object.keys(wanted).length === 0) return;
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${bucket}`;
  const { config } = await infoOfCreated(jsm, stream);
  const differs = (Object.keys(wanted) as (keyof StreamConfig)[]).some((k) => config[k] !== wanted[k]);
  if (differs) await jsm.streams.update(stream, { ...config, ...wanted });
  await untilServing(jsm, stream, opts.replicas);
}

/**
 * The info of a stream that was just created or found: in a cluster, a server that is
 * not yet in the new stream's group can answer "not found" for a moment after the
 * creation was acknowledged (a runner starting beside the others exited on that, in the
 * five-run check). Asked again until it answers or SERVING_WAIT_MS passes.
 */
async function infoOfCreated(jsm: JetStreamManager, stream: string) {
  const deadline = Date.now() + SERVING_WAIT_MS;
  for (;;) {
    try {
      return await jsm.streams.info(stream);
    } catch (err) {
      if (!isNotFound(err) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** How long a start-up waits for a stream or bucket to answer. */
const SERVING_WAIT_MS = 30_000;

/**
 * A replicated stream or bucket has no leader for a moment after it is created (or
 * found by a process that lost the creation race), and then its replicas' direct-get
 * subscriptions take a moment to reach every server of the cluster: until both, its
 * direct gets answer "no responders" and it takes no writes. Waits for that (a leader,
 * and a direct get that answers), so a service starts on assets that work. Only when
 * the caller named a replica count: a service, not a test's or tool's reader.
 */
export async function untilServing(jsm: JetStreamManager, stream: string, replicas: number | undefined): Promise<void> {
  if (replicas === undefined) return;
  const deadline = Date.now() + SERVING_WAIT_MS;
  let last: unknown = "no leader";
  for (;;) {
    try {
      const info = await jsm.streams.info(stream);
      if (info.cluster !== undefined && !info.cluster.leader) throw new Error("no leader");
      if (info.config.allow_direct) {
        // Any subject of the stream: "not found" is an answer, "no responders" is not.
        const subject = (info.config.subjects?.[0] ?? "").replaceAll(">", "_").replaceAll("*", "_");
        await jsm.direct.getMessage(stream, { last_by_subj: subject });
      }
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${stream} does not answer within ${SERVING_WAIT_MS / 1000} s (${replicas} replicas; are most of the cluster's servers up?): ${String(last)}`);
    }
    await sleep(100);
  }
}

/** How long provisioning keeps trying through transient failures before it gives up. */
const TRANSIENT_WAIT_MS = 30_000;

/**
 * Runs an idempotent provisioning step again while it fails for a reason that passes:
 * a request that timed out or found no responder, or JetStream answering that the
 * cluster is not available or has no servers for the replicas yet. In a cluster that
 * happens while a new stream or bucket elects its leader, the servers elect a meta
 * leader or learn of each other (all services starting at once on a loaded machine, a
 * server restarting), and the step would succeed a moment later.
 */
export async function whileTransient<T>(step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + TRANSIENT_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await sleep(Math.min(100 * attempt, 1_000));
    }
  }
}

/**
 * Creates a stream or bucket that another process may be creating at this very moment
 * (replicas starting together: docker-compose's three runners, `pnpm start`). While the
 * other creation is under way the server can answer "subjects overlap with an existing
 * stream" (or "name already in use"); a moment later the same call finds the stream
 * made and succeeds. Retried on those two answers only, a few times.
 */
export async function createdDespiteRace<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (attempt >= CREATE_ATTEMPTS || !isCreationRace(err)) throw err;
      await sleep(25 * attempt + Math.random() * 25);
    }
  }
}

const CREATE_ATTEMPTS = 6;
