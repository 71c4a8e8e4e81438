import { afterEach, describe, expect, it } from "vitest";
import type { JobEvent, JobStatus, JobTypeDescriptor } from "@jobs/core";
import { announceJobTypes, IndexStore, openIndexBucket, openTypesBucket } from "@jobs/nats";
import { eventually } from "../../../test/support/eventually.ts";
import { rebuildView } from "../../projector/src/index.ts";
import { expectConsumerDrained } from "../../projector/test/harness.ts";
import { ALPHA, at, BETA, gatewayOnHarness, type GatewayHarness } from "./gateway-on-harness.ts";

/**
 * GET /job on a real nats-server, with the real projector keeping the listing index and
 * the gateway wired as main.ts wires it: over a thousand jobs of two applications, paged
 * through with and without filters, before and after a rebuild of the index.
 */
const SLEEP: JobTypeDescriptor = { name: "sleep", description: "waits", params: { type: "object" } };

/** A gateway and a live projector on a server of their own, and the jobs a test created there. */
interface Listing {
  g: GatewayHarness;
  created: Map<string, { app: "alpha" | "beta"; type: string; seq: number }>;
  statusOf: Map<string, JobStatus>;
}

const opened: GatewayHarness[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((g) => g.dispose()));
});

async function post(g: GatewayHarness, auth: { authorization: string }, type: string): Promise<string> {
  const res = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type, params: type === "sum" ? { a: 1, b: 2 } : {} } });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { id: string }).id;
}

/**
 * `jobs` jobs posted through the gateway, a third of them beta's, a quarter sleeps, with
 * the projector caught up: the listing index holds them all.
 */
async function listing(jobs: number): Promise<Listing> {
  const g = await gatewayOnHarness("list");
  opened.push(g);
  await announceJobTypes(await openTypesBucket(g.h.nc, g.h.names), [SLEEP]); // followed by the gateway's catalog
  g.h.startProjector();
  const l: Listing = { g, created: new Map(), statusOf: new Map() };
  // The gateway hears of the sleep type through its catalog's watch: wait for it.
  const first = await eventually(() => post(g, ALPHA, "sleep"), { timeoutMs: 10_000, intervalMs: 100 });
  l.created.set(first, { app: "alpha", type: "sleep", seq: 0 });
  for (let chunk = 0; chunk * 100 < jobs - 1; chunk++) {
    await Promise.all(
      Array.from({ length: Math.min(100, jobs - 1 - chunk * 100) }, async (_, i) => {
        const app = (chunk * 100 + i) % 3 === 0 ? "beta" : "alpha";
        const type = i % 4 === 0 ? "sleep" : "sum";
        l.created.set(await post(g, app === "alpha" ? ALPHA : BETA, type), { app, type, seq: 0 });
      }),
    );
  }
  // Newest first means the stream order of the requests: read each one's sequence from the stream.
  await Promise.all(
    [...l.created].map(async ([id, c]) => {
      c.seq = (await g.h.jsm.direct.getMessage(g.h.names.stream, { last_by_subj: g.h.names.requestSubject(id) }))!.seq;
      l.statusOf.set(id, "queued");
    }),
  );
  await caughtUp(g);
  return l;
}

/** Every job of the caller for `query`, following `next`; also checks that no page is empty but the last. */
async function walk(g: GatewayHarness, auth: { authorization: string }, query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/job?${query}${cursor === null ? "" : `&cursor=${cursor}`}`;
    const res = await g.app.inject({ method: "GET", url, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: { id: string }[]; next: string | null };
    ids.push(...body.items.map((j) => j.id));
    cursor = body.next;
  } while (cursor !== null);
  return ids;
}

/** The jobs a listing must give: the caller's, matching, newest (highest request sequence) first. */
function expected({ created }: Listing, app: "alpha" | "beta", match: (id: string) => boolean = () => true): string[] {
  return [...created].filter(([id, c]) => c.app === app && match(id)).sort(([, a], [, b]) => b.seq - a.seq).map(([id]) => id);
}

async function caughtUp(g: GatewayHarness): Promise<void> {
  await eventually(() => expectConsumerDrained(g.h), { timeoutMs: 30_000, intervalMs: 100 });
}

/** Runs three in five of alpha's jobs as a runner would: succeeded, failed, still running. */
async function runSome(l: Listing): Promise<void> {
  const events: JobEvent[] = [];
  expected(l, "alpha").forEach((jobId, i) => {
    if (i % 5 > 2) return;
    events.push({ type: "JobStarted", jobId, time: at(), data: { attempt: 1, runner: "test" } });
    if (i % 5 === 0) events.push({ type: "JobFinished", jobId, time: at(), data: { attempt: 1, outcome: "succeeded", result: { value: i } } });
    if (i % 5 === 1) events.push({ type: "JobFinished", jobId, time: at(), data: { attempt: 1, outcome: "failed", error: { code: "error", message: "no" } } });
    l.statusOf.set(jobId, (["succeeded", "failed", "running"] as const)[i % 5]!);
  });
  for (let i = 0; i < events.length; i += 200) await Promise.all(events.slice(i, i + 200).map((e) => l.g.append(e)));
  await caughtUp(l.g);
}

describe("GET /job on NATS", () => {
  it("lists 1,100 jobs of two applications across several index pages: newest first, each once, none of the other's", async () => {
    const l = await listing(1_101);
    const { g } = l;
    expect((await g.h.index.head("alpha"))?.page).toBe(3);
    expect((await g.h.index.head("beta"))?.page).toBe(2);

    expect([expected(l, "alpha").length, expected(l, "beta").length]).toEqual([734, 367]);
    expect(await walk(g, ALPHA, "limit=97")).toEqual(expected(l, "alpha"));
    expect(await walk(g, BETA, "limit=500")).toEqual(expected(l, "beta"));
    expect(await walk(g, BETA, "limit=1&type=nope")).toEqual([]);
  }, 120_000);

  it("filters by status and type once jobs have run", async () => {
    const l = await listing(301); // alpha's 201 jobs on one page, beta's 100
    const { g, created, statusOf } = l;
    await runSome(l);

    for (const status of ["queued", "running", "succeeded", "failed", "cancelled"] as const) {
      expect(await walk(g, ALPHA, `status=${status}&limit=50`), status).toEqual(expected(l, "alpha", (id) => statusOf.get(id) === status));
    }
    expect(await walk(g, ALPHA, "type=sleep&limit=500")).toEqual(expected(l, "alpha", (id) => created.get(id)!.type === "sleep"));
    const both = (id: string) => created.get(id)!.type === "sum" && statusOf.get(id) === "succeeded";
    expect(await walk(g, ALPHA, "type=sum&status=succeeded&limit=13")).toEqual(expected(l, "alpha", both));
    expect(await walk(g, BETA, "status=succeeded")).toEqual([]);
  }, 60_000);

  it("lists the same after a rebuild, and after the index is lost and rebuilt from the stream", async () => {
    const l = await listing(451); // alpha's 301 jobs on two pages
    const { g, created, statusOf } = l;
    await runSome(l);
    expect((await g.h.index.head("alpha"))?.page).toBe(2);
    const before = await walk(g, ALPHA, "limit=500");
    const rebuild = (index = g.h.index.kv) => rebuildView({ nc: g.h.nc, names: g.h.names, kv: g.h.kv, index, log: g.h.log });
    const jobs = created.size;
    expect(await rebuild()).toMatchObject({ jobs, equal: jobs, written: 0, indexAppended: 0, indexCorrected: 0, indexRemoved: 0 });

    await g.h.index.kv.destroy();
    const index = new IndexStore(await openIndexBucket(g.h.nc, g.h.names), g.h.names);
    // The same pages as the live projector wrote: every view's indexPage still holds, no view is written.
    expect(await rebuild(index.kv)).toMatchObject({ jobs, equal: jobs, written: 0, indexAppended: jobs });
    expect(await walk(g, ALPHA, "limit=500")).toEqual(before);
    expect(await walk(g, ALPHA, "status=failed&limit=20")).toEqual(expected(l, "alpha", (id) => statusOf.get(id) === "failed"));
  }, 60_000);
});
