/**
 * The NATS client entry points and types the services need, re-exported so that a
 * service depends on @jobs/nats alone (not on each @nats-io package).
 */
export { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
export type { KV } from "@nats-io/kv";
export { connect, type NatsConnection } from "@nats-io/transport-node";
// For consumers that read the stream themselves (the projector, its rebuild).
export { DeliverPolicy, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
