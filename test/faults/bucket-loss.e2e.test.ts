import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventually } from "../support/eventually.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { postInsisting } from "../support/cluster.ts";
import { expectOneEndingEach, historiesOf } from "../support/job-history.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";

/**
 * A bucket that is not the job stream is lost while the stack runs (`nats kv del`, a
 * restore that left it out): the Idempotency-Key claims or the job types. Neither holds
 * a job, so no accepted job may be lost: the jobs accepted before and after the loss all
 * end succeeded, each once. And the service must not fail quietly: it re-creates what it
 * needs, or says plainly what it cannot do and why.
 */
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "bucket", types: ["sum"], runnerIds: ["bk-a"] });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

const sums = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ type: "sum", params: { a: from + i, b: 1 } }));
const readyz = async () => (await fetch(`${f.stack.baseUrl}/readyz`)).status;

/** Deletes a KV bucket as `nats kv del <bucket>` does: its stream goes. */
async function loseBucket(bucket: string): Promise<void> {
  await (await jetstreamManager(f.nc)).streams.delete(`KV_${bucket}`);
}

/** Every job of `ids` ends succeeded with a + 1, and once. */
async function expectAllSucceeded(ids: string[], bodies: { params: { a: number } }[]): Promise<void> {
  const finals = await waitForFinal(f.api, ids, { timeoutMs: 30_000, logs: f.logs });
  ids.forEach((id, i) => expect(finals.get(id), id).toMatchObject({ status: "succeeded", result: { value: bodies[i]!.params.a + 1 } }));
  expectOneEndingEach(await historiesOf(f.nc, f.names, ids));
}

describe("the Idempotency-Key claims bucket lost while the stack runs", () => {
  it("loses no job, and keyed requests are taken again or refused with the reason", async () => {
    const beforeBodies = sums(0, 3);
    const before = await postInsisting(f.api, beforeBodies, { concurrency: 3, keyPrefix: "before", deadlineMs: 15_000 });
    expect(before.map((j) => j.statuses.at(-1))).toEqual([202, 202, 202]);

    await loseBucket(f.names.idempotencyBucket);

    // Without a key nothing changes.
    const plainBodies = sums(100, 3);
    const plain = acceptedIds(await postJobs(f.api, plainBodies, { concurrency: 3 }));
    expect(plain).toHaveLength(3);
    // With a key, as a client told to retry a 503 does, for as long as a client would wait.
    const keyedBodies = sums(200, 3);
    const keyed = await postInsisting(f.api, keyedBodies, { concurrency: 3, keyPrefix: "after", deadlineMs: 30_000 });
    const taken = keyed.every((j) => j.id !== undefined);
    if (!taken) {
      // Still refused: then the refusal must say why, in the answer or in a readiness that
      // takes the gateway out of rotation, and not only "try again later".
      const refused = await f.api.post("/job", keyedBodies[0], { "idempotency-key": "after-0" });
      const says = JSON.stringify(refused.body).includes(f.names.idempotencyBucket) || (await readyz()) === 503;
      expect(
        says,
        `keyed POSTs after the loss of ${f.names.idempotencyBucket}, each retried as a 503 asks: ${keyed.map((j) => `${j.statuses.length} answers, the last ${j.statuses.at(-1)}`).join("; ")}; ` +
          `still ${refused.status} ${JSON.stringify(refused.body)} with /readyz ${await readyz()}, for 30 s: neither re-created nor said\n${f.logs()}`,
      ).toBe(true);
    }

    const ids = [...before.map((j) => j.id!), ...plain, ...keyed.flatMap((j) => (j.id ? [j.id] : []))];
    await expectAllSucceeded(ids, [...beforeBodies, ...plainBodies, ...keyedBodies.filter((_, i) => keyed[i]!.id)]);
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
  }, 90_000);
});

describe("the job types bucket lost while the stack runs", () => {
  it("loses no job; a gateway started after the loss takes jobs again or says why it cannot", async () => {
    const beforeBodies = sums(0, 3);
    const before = acceptedIds(await postJobs(f.api, beforeBodies, { concurrency: 3 }));
    expect(before).toHaveLength(3);

    await loseBucket(f.names.typesBucket);

    // The gateway that runs keeps what it learned.
    const afterBodies = sums(100, 3);
    const after = acceptedIds(await postJobs(f.api, afterBodies, { concurrency: 3 }));
    expect(after).toHaveLength(3);
    await expectAllSucceeded([...before, ...after], [...beforeBodies, ...afterBodies]);

    // A gateway started now (a deploy, a crash) finds no types bucket. The runners that
    // run can run sums: it takes them again, or its refusal says why.
    expect(await f.live("gateway").stop("SIGTERM")).toBe(0);
    f.stack.start("gateway");
    await eventually(async () => expect(await readyz()).toBe(200), { timeoutMs: 30_000, intervalMs: 200 });
    const outcome = await eventually(
      async () => {
        const res = await f.api.post("/job", { type: "sum", params: { a: 300, b: 1 } });
        if (res.status === 202) return { taken: res.body.id as string };
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        // Not taken: acceptable only with the reason, not as a plain "unknown type".
        expect(res.body.detail, JSON.stringify(res.body)).toMatch(/no job types are registered/);
        return { refused: res.body.detail as string };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    console.log(`a gateway started after the loss of ${f.names.typesBucket}: ${JSON.stringify(outcome)}`);

    // A runner that starts announces its types again, and the gateway takes sums from then on.
    await f.startRunnerReady("bk-b");
    const probe = await eventually(
      async () => {
        const res = await f.api.post("/job", { type: "sum", params: { a: 400, b: 1 } });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        return res.body.id as string;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const lateBodies = sums(401, 3);
    const late = acceptedIds(await postJobs(f.api, lateBodies, { concurrency: 3 }));
    expect(late).toHaveLength(3);
    const taken = outcome.taken === undefined ? [] : [outcome.taken];
    await expectAllSucceeded([probe, ...late, ...taken], [{ params: { a: 400 } }, ...lateBodies, ...taken.map(() => ({ params: { a: 300 } }))]);
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
  }, 120_000);
});
