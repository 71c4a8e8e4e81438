import { messageIds, newJobId } from "@jobs/core";
import { cancelled, requested } from "@jobs/core/testing";
import { describe, expect, it } from "vitest";
import { idempotencyStoreContract } from "./contract/idempotency-store.contract.ts";
import { jobStoreContract, type JobStoreSubject } from "./contract/job-store.contract.ts";
import { jobTypesContract } from "./contract/job-types.contract.ts";
import { readinessContract } from "./contract/readiness.contract.ts";
import { DUPLICATE_WINDOW_MS, FakeIdempotencyStore, FakeJobStore, FakeJobTypes, FakeReadiness } from "./fakes.ts";

/**
 * The port contracts on the fakes the API tests use (ports-on-nats.int.test.ts runs the
 * same ones on the NATS adapters). The job store runs twice: as the API tests get it,
 * and with each choice the contract leaves open taken the other way (the message id
 * checked before the expectation, a projector that lags until it is caught up).
 */

const fakeJobStore =
  (setUp: (store: FakeJobStore) => void = () => undefined) =>
  async (): Promise<JobStoreSubject> => {
    const store = new FakeJobStore();
    setUp(store);
    return { store, record: (event, msgId) => store.seedEvent(event, msgId), caughtUp: async () => store.catchUp(), close: async () => undefined };
  };

jobStoreContract("FakeJobStore", fakeJobStore());
jobStoreContract(
  "FakeJobStore, duplicates checked first, projector lagging",
  fakeJobStore((store) => {
    store.duplicateFirst = true;
    store.pauseProjector();
  }),
);

idempotencyStoreContract("FakeIdempotencyStore", async () => ({ store: new FakeIdempotencyStore(), close: async () => undefined }));

jobTypesContract("FakeJobTypes", async (announced) => {
  const types = new FakeJobTypes(announced);
  return { types, announce: async (d) => types.announce(d), close: async () => undefined };
});

readinessContract("FakeReadiness", async (store) => {
  const readiness = new FakeReadiness();
  readiness.ready = store === "up";
  return { readiness, close: async () => undefined };
});

describe("FakeJobStore beyond the contract: the duplicate window, as the server keeps it", () => {
  it("forgets an ending's message id after DUPLICATE_WINDOW_MS, never a request's", async () => {
    let now = 0;
    const store = new FakeJobStore();
    store.now = () => now;
    const event = requested({ jobId: newJobId() });
    const id = event.jobId;
    const { seq } = await store.append(event, messageIds.requested(id));
    const first = await store.appendIfUnchanged(cancelled(0, { jobId: id }), messageIds.cancelled(id), 0);
    now += DUPLICATE_WINDOW_MS - 1;
    expect(await store.appendIfUnchanged(cancelled(0, { jobId: id }), messageIds.cancelled(id), first.seq)).toEqual({ seq: first.seq, duplicate: true });
    now += 1;
    expect(await store.appendIfUnchanged(cancelled(0, { jobId: id }), messageIds.cancelled(id), first.seq)).toEqual({ seq: first.seq + 1, duplicate: false });
    expect(await store.append(event, messageIds.requested(id))).toEqual({ seq, duplicate: true });
  });
});
