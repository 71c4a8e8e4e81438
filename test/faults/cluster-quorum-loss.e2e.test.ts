import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@jobs/service";
import { contractCheckedApi, postInsisting, streamLeader } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";
import { startClusterFaultStack, type ClusterFaultStack } from "../support/fault-stack.ts";
import { allJobHistories, expectOneEndingEach, ranTwice } from "../support/job-history.ts";
import { waitForFinal } from "../support/job-traffic.ts";

/**
 * Two of the three servers stop (SIGTERM) with jobs done, running and queued: the one
 * left is the stream's leader, which cannot store anything without a majority. The
 * services stay up and say so honestly: POST /job and /readyz answer 503 with
 * Retry-After, never a 202. When one server comes back, everything resumes with no
 * restart of any service: every job accepted before the outage succeeds, new jobs are
 * taken, and the stream holds exactly the jobs that were accepted (a refused request
 * retried with its Idempotency-Key completes its own job, never a second one).
 */
const OUTAGE_CHECK_MS = 8_000;
/** Jobs refused without an Idempotency-Key are sums from this number up, to tell them apart in the stream. */
const UNKEYED = 1_000;
let f: ClusterFaultStack;

beforeAll(async () => {
  f = await startClusterFaultStack({ label: "quorum", types: ["sum", "countdown"], runnerIds: ["q-a", "q-b"] });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

describe("two of three servers stopped, then one back", () => {
  it("refuses jobs with 503 while a majority is missing, and resumes by itself when one server returns", async () => {
    const checked = contractCheckedApi(f.api);
    const pids = f.stack.services.map((s) => s.child.pid);

    // Before: quick jobs done, long ones running or queued (2 runners x 8 slots < 20).
    const quick = await postInsisting(checked.api, Array.from({ length: 6 }, (_, i) => ({ type: "sum", params: { a: i, b: i } })), { concurrency: 6, keyPrefix: "quick", deadlineMs: 10_000 });
    const quickIds = quick.map((j) => j.id!);
    expect(quickIds.every(Boolean), JSON.stringify(quick)).toBe(true);
    await waitForFinal(checked.api, quickIds, { timeoutMs: 15_000, logs: f.logs });
    const longBodies = Array.from({ length: 20 }, (_, i) => ({ type: "countdown", params: { seconds: 2 + (i % 3) } }));
    const long = await postInsisting(checked.api, longBodies, { concurrency: 8, keyPrefix: "long", deadlineMs: 10_000 });
    const longIds = long.map((j) => j.id!);
    expect(longIds.every(Boolean), JSON.stringify(long)).toBe(true);
    await eventually(async () => {
      const statuses = await Promise.all(longIds.map(async (id) => (await checked.api.get(`/job/${id}`)).body.status));
      expect(statuses.filter((s) => s === "running").length).toBeGreaterThanOrEqual(8);
    }, { timeoutMs: 15_000, intervalMs: 200 });

    // The two servers that do not lead the stream go: the leader is left alone, without a majority.
    const leader = await streamLeader(f.nc, f.cluster, f.names.stream);
    const stopped = f.cluster.nodes.filter((n) => n !== leader);
    const stoppedAt = Date.now();
    await Promise.all(stopped.map((n) => n.stop("SIGTERM")));

    // Honest within a bound: not ready, and refusing jobs.
    const notReadyAfterMs = await eventually(async () => {
      expect((await fetch(`${f.stack.baseUrl}/readyz`)).status).toBe(503);
      return Date.now() - stoppedAt;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    // Then, for a while: every process up and live, not ready, every job refused with 503 +
    // Retry-After, with an Idempotency-Key (refused at the key's claim) or without one
    // (refused when the leader's publish ack does not come).
    const refusedBodies: { type: string; params: { a: number; b: number } }[] = [];
    let refusedWithoutKey = 0;
    const until = Date.now() + OUTAGE_CHECK_MS;
    while (Date.now() < until) {
      expect(f.unexpectedExits(), f.logs()).toEqual([]);
      expect((await fetch(`${f.stack.baseUrl}/healthz`)).status).toBe(200);
      const ready = await fetch(`${f.stack.baseUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(Number(ready.headers.get("retry-after"))).toBeGreaterThan(0);
      const withKey = refusedBodies.length <= refusedWithoutKey;
      const body = withKey ? { type: "sum", params: { a: refusedBodies.length, b: 100 } } : { type: "sum", params: { a: UNKEYED + refusedWithoutKey, b: 0 } };
      const refused = await checked.api.post("/job", body, withKey ? { "idempotency-key": `outage-${refusedBodies.length}` } : {});
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(refused.headers.get("content-type")).toMatch(/application\/problem\+json/);
      if (withKey) refusedBodies.push(body);
      else refusedWithoutKey++;
      await sleep(200); // pacing the checks
    }
    expect(refusedBodies.length).toBeGreaterThan(0);
    expect(refusedWithoutKey).toBeGreaterThan(0);

    // One server back: a majority again. No service is restarted.
    await stopped[0]!.restart();
    const restartedAt = Date.now();
    await eventually(async () => expect((await fetch(`${f.stack.baseUrl}/readyz`)).status).toBe(200), { timeoutMs: 30_000, intervalMs: 250 });
    const readyAgainAfterMs = Date.now() - restartedAt;

    // The refused requests, retried with their keys, each end in exactly one job.
    const retried = await postInsisting(checked.api, refusedBodies, { concurrency: 4, keyPrefix: "outage", deadlineMs: 30_000 });
    const retriedIds = retried.map((j) => j.id!);
    expect(retried.filter((j) => !j.id), JSON.stringify(retried)).toEqual([]);
    expect(new Set(retriedIds).size).toBe(refusedBodies.length);
    const after = await postInsisting(checked.api, [{ type: "sum", params: { a: 40, b: 2 } }], { concurrency: 1, keyPrefix: "after", deadlineMs: 15_000 });
    expect(after[0]!.statuses.at(-1)).toBe(202);

    const all = [...quickIds, ...longIds, ...retriedIds, after[0]!.id!];
    const finals = await waitForFinal(checked.api, all, { timeoutMs: 45_000, logs: f.logs });
    for (const id of all) expect(finals.get(id), `${id}\n${f.logs()}`).toMatchObject({ status: "succeeded" });
    longIds.forEach((id, i) => expect(finals.get(id).result).toEqual({ seconds: 2 + (i % 3) }));
    retriedIds.forEach((id, i) => expect(finals.get(id).result).toEqual({ value: i + 100 }));
    expect(finals.get(after[0]!.id!).result).toEqual({ value: 42 });
    expect(checked.violations, checked.statuses()).toEqual([]);

    // The stream holds every accepted job. Besides them, only requests refused without a
    // key may be there: a publish whose ack timed out can be committed once a majority is
    // back (the README: a 503 may have been stored; retry with a key). Each job ended once.
    const histories = await eventually(
      async () => {
        const h = await allJobHistories(f.nc, f.names);
        expect([...h].filter(([, events]) => !events.some((e) => e.event.type === "JobFinished")).map(([id]) => id)).toEqual([]);
        return h;
      },
      { timeoutMs: 20_000, intervalMs: 1_000 },
    );
    for (const id of all) expect(histories.has(id), `accepted job ${id} is not in the stream`).toBe(true);
    const others = [...histories].filter(([id]) => !all.includes(id)).map(([, h]) => h[0]!.event);
    for (const e of others) expect(e.type === "JobRequested" && (e.data.params as { a: number }).a >= UNKEYED, JSON.stringify(e)).toBe(true);
    // Each ended once, including the unkeyed requests stored after all. The countdowns
    // were running or waiting through the outage, which can outlast the ack wait (30 s)
    // and moves the leaders: such a job may be handed to the other runner while its
    // first runner still runs it (first outcome wins, the other attempt stores none),
    // once. Every other job was requested and run while a majority was up.
    const throughOutage = new Set(longIds);
    expectOneEndingEach(histories, {
      lost: { fault: "the loss of quorum, then a leader change", explains: (_, id) => throughOutage.has(id), maxPerJob: 1 },
    });
    // The same processes throughout: nothing was restarted, nothing exited.
    expect(f.stack.services.map((s) => s.child.pid)).toEqual(pids);
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
    console.log(
      `leader ${leader.name} left alone: /readyz 503 ${(notReadyAfterMs / 1000).toFixed(1)} s after the stop; ${refusedBodies.length} jobs refused with a key and ${refusedWithoutKey} without in ${OUTAGE_CHECK_MS / 1000} s (${others.length} of these stored after all); ` +
        `${ranTwice(histories)} jobs started a second attempt; ready again ${(readyAgainAfterMs / 1000).toFixed(1)} s after ${stopped[0]!.name} restarted; answers ${checked.statuses()}`,
    );
  }, 120_000);
});
