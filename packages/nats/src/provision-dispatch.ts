import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { PRIORITIES, type JobNames } from "@jobs/core";
import {
  createdDespiteRace,
  ensureConsumer,
  ensureRunnerConsumer,
  ensureStream,
  NANOS_PER_MS,
  openViewBucket,
  RUNNER_ACK_WAIT_MS,
  untilServing,
  whileTransient,
  type ReplicaOptions,
} from "./provision.ts";
import { jetstreamManager } from "./clients.ts";
import { isNotFound } from "./errors.ts";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The dispatch stream: what waits for a time (one-shot server schedules) and what is ready
 * for a runner, by priority. Operational state, not history: WorkQueue retention removes a
 * ready job once a runner acks it, and the stream may be purged or lost (the runners
 * restore it from the event stream). Message schedules make the server force rollups on
 * and purge allowed, which is why this is not the event stream.
 */
export function dispatchStreamConfig(names: JobNames, opts: ReplicaOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: names.dispatchStream,
    subjects: [...names.dispatchSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    allow_msg_schedules: true,
    allow_rollup_hdrs: true,
    deny_purge: false,
    allow_direct: true,
    duplicate_window: 2 * 60 * 1000 * NANOS_PER_MS,
    num_replicas: opts.replicas ?? 1,
  };
}

export async function ensureDispatchStream(jsm: JetStreamManager, names: JobNames, opts: ReplicaOptions = {}): Promise<void> {
  await whileTransient(async () => {
    try {
      const { config } = await jsm.streams.info(names.dispatchStream);
      if (opts.replicas !== undefined && config.num_replicas !== opts.replicas) {
        await jsm.streams.update(names.dispatchStream, { ...config, num_replicas: opts.replicas });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await createdDespiteRace(() => jsm.streams.add(dispatchStreamConfig(names, opts)));
    }
  });
  await untilServing(jsm, names.dispatchStream, opts.replicas);
}

/**
 * The runners' consumers beside their main one: one per priority on the ready queues,
 * one per priority on the routed requests (event stream), and the expiry consumer.
 * `ackWaitMs` as for the main consumer (ensureRunnerConsumer).
 */
export async function ensureDispatchConsumers(jsm: JetStreamManager, names: JobNames, opts: { ackWaitMs?: number } = {}): Promise<void> {
  const ackWait = (opts.ackWaitMs ?? RUNNER_ACK_WAIT_MS) * NANOS_PER_MS;
  const common = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_deliver: -1 };
  for (const priority of PRIORITIES) {
    const durable = names.readyConsumer(priority);
    const { config } = await ensureConsumer(jsm, names.dispatchStream, {
      ...common,
      durable_name: durable,
      filter_subject: names.readyFilter(priority),
      ack_wait: ackWait,
      max_ack_pending: 20_000,
    });
    if (config.ack_wait !== ackWait) await whileTransient(() => jsm.consumers.update(names.dispatchStream, durable, { ack_wait: ackWait }));
  }
  // Routing and expiry take milliseconds per message: a short ack wait brings back at
  // once what a runner that stopped mid-way held.
  for (const priority of PRIORITIES) {
    await ensureConsumer(jsm, names.stream, {
      ...common,
      durable_name: names.routingConsumer(priority),
      filter_subject: names.routedFilter(priority),
      ack_wait: 10_000 * NANOS_PER_MS,
      max_ack_pending: 10_000,
    });
  }
  await ensureConsumer(jsm, names.dispatchStream, {
    ...common,
    durable_name: names.expiryConsumer,
    filter_subject: names.expiredFilter,
    ack_wait: 10_000 * NANOS_PER_MS,
    max_ack_pending: 10_000,
  });
}

/**
 * Everything a runner needs before it starts: the event stream and its consumer, the
 * dispatch stream and its consumers, and the view bucket (the dispatch repair reads
 * views; the projector may not have created it yet).
 */
export async function provisionRunners(nc: NatsConnection, names: JobNames, opts: ReplicaOptions & { ackWaitMs?: number } = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const replicas = opts.replicas === undefined ? {} : { replicas: opts.replicas };
  await ensureStream(jsm, names, replicas);
  await ensureRunnerConsumer(jsm, names, { ackWaitMs: opts.ackWaitMs });
  await ensureDispatch(jsm, names, opts);
  await openViewBucket(nc, names, replicas);
}

/** The dispatch stream and its consumers: at start, and again by a runner that found the stream deleted. */
export async function ensureDispatch(jsm: JetStreamManager, names: JobNames, opts: ReplicaOptions & { ackWaitMs?: number } = {}): Promise<void> {
  await ensureDispatchStream(jsm, names, opts.replicas === undefined ? {} : { replicas: opts.replicas });
  await ensureDispatchConsumers(jsm, names, { ackWaitMs: opts.ackWaitMs });
}
