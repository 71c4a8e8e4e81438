/**
 * The NATS client entry points and types the services need, re-exported so that a
 * service depends on @jobs/nats alone (not on each @nats-io package).
 */
import { jetstreamManager as managerOf, type JetStreamManager, type JetStreamManagerOptions } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export { jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

/**
 * A JetStreamManager, without the API probe nats.js makes by default when it creates one
 * (an account-info request). Every service checks JetStream by provisioning at start,
 * which waits through a cluster that is electing a leader; the probe would not wait, and
 * a service starting during such a moment would exit instead.
 */
export function jetstreamManager(nc: NatsConnection, opts: Omit<JetStreamManagerOptions, "checkAPI"> = {}): Promise<JetStreamManager> {
  return managerOf(nc, { ...opts, checkAPI: false });
}
export type { KV } from "@nats-io/kv";
export { connect, type NatsConnection } from "@nats-io/transport-node";
// For consumers that read the stream themselves (the projector, its rebuild).
export { DeliverPolicy, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
