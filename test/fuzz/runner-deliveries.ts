import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JobNames } from "@jobs/core";
import { sleep } from "@jobs/service";

/**
 * How many messages the runners' shared consumer delivers in `windowMs`: a measure of
 * whether the runners have settled. Jobs waiting for a retry or their runAt cost a
 * delivery now and then; a job handed back at once over and over (a nak whose delay the
 * server could not read, say) costs thousands a second and a core with them.
 */
export async function runnerDeliveriesOver(nc: NatsConnection, names: JobNames, windowMs: number): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const delivered = async () => (await jsm.consumers.info(names.stream, names.runnerConsumer)).delivered.consumer_seq;
  const before = await delivered();
  // A measurement window, not a wait for a condition: the count over it is the result.
  await sleep(windowMs);
  return (await delivered()) - before;
}
