import { jobNames, type JobTypeDescriptor } from "@jobs/core";
import {
  announceJobTypes,
  ensureProjectorConsumer,
  EventLog,
  IndexStore,
  jetstream,
  jetstreamManager,
  openIndexBucket,
  openTypesBucket,
  openViewBucket,
  ViewStore,
} from "@jobs/nats";
import { afterAll, beforeAll, expect } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { testPrefix } from "../../../test/support/nats-server.ts";
import { startProjector } from "../../projector/src/projector.ts";
import { natsAppDeps } from "../src/nats/deps.ts";
import { idempotencyStoreContract } from "./contract/idempotency-store.contract.ts";
import { jobStoreContract } from "./contract/job-store.contract.ts";
import { jobTypesContract } from "./contract/job-types.contract.ts";
import { readinessContract } from "./contract/readiness.contract.ts";
import { natsOnTest, type NatsOnTest } from "./gateway-on-harness.ts";

/**
 * The port contracts on the NATS adapters, wired by natsAppDeps as main.ts wires them,
 * on a real nats-server of this file's own, each case under a fresh prefix. The job
 * store's views and listing come from the real projector, running beside it.
 */

let nats: NatsOnTest;
beforeAll(async () => {
  nats = await natsOnTest("ports");
});
afterAll(async () => {
  await nats?.close();
});

/** natsAppDeps under a fresh prefix, the types announced first as a runner would; close() stops following NATS. */
async function wired(announced: JobTypeDescriptor[] = []) {
  const { nc, log } = nats;
  const names = jobNames(testPrefix("ports"));
  const controller = new AbortController();
  const types = await openTypesBucket(nc, names);
  await announceJobTypes(types, announced);
  const deps = await natsAppDeps({ nc, names, log, signal: controller.signal, idempotencyTtlMs: 60_000, appendTimeoutMs: 2_000, readinessCacheMs: 0 });
  return { deps, names, types, close: async () => controller.abort() };
}

jobStoreContract("NatsJobStore on nats-server, with the projector", async () => {
  const { nc, log } = nats;
  const { deps, names, close } = await wired();
  const jsm = await jetstreamManager(nc);
  await ensureProjectorConsumer(jsm, names);
  const events = new EventLog(jetstream(nc), jsm, names);
  const views = new ViewStore(await openViewBucket(nc, names));
  const index = new IndexStore(await openIndexBucket(nc, names), names);
  const projector = startProjector({ nc, names, views, index, history: events, log });
  return {
    store: deps.jobs,
    record: async (event, msgId) => (await events.append(event, msgId)).seq,
    caughtUp: () =>
      eventually(async () => {
        const info = await jsm.consumers.info(names.stream, names.projectorConsumer);
        expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({ pending: 0, ackPending: 0 });
      }),
    async close() {
      await projector.stop();
      await close();
    },
  };
});

idempotencyStoreContract("NatsIdempotencyStore on nats-server", async () => {
  const { deps, close } = await wired();
  return { store: deps.idempotency, close };
});

jobTypesContract("JobTypeCatalog on nats-server", async (announced) => {
  const { deps, types, close } = await wired(announced);
  return { types: deps.types, announce: (d) => announceJobTypes(types, [d]), close };
});

readinessContract("NatsReadiness on nats-server", async (store) => {
  const { deps, names, close } = await wired();
  if (store === "down") await (await jetstreamManager(nats.nc)).streams.delete(names.stream);
  return { readiness: deps.readiness, close };
});
