import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
let g: GatewayHarness;
const created = new Map<string, { app: "alpha" | "beta"; type: string; seq: number }>();
const statusOf = new Map<string, JobStatus>();

beforeAll(async () => {
  g = await gatewayOnHarness("list");
  await announceJobTypes(await openTypesBucket(g.h.nc, g.h.names), [SLEEP]); // followed by the gateway's catalog
  g.h.startProjector();
}, 60_000);
afterAll(async () => {
  await g?.dispose();
});

async function post(auth: { authorization: string }, type: string): Promise<string> {
  const res = await g.app.inject({ method: "POST", url: "/job", headers: auth, payload: { type, params: type === "sum" ? { a: 1, b: 2 } : {} } });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { id: string }).id;
}

/** Every job of the caller for `query`, following `next`; also checks that no page is empty but the last. */
async function walk(auth: { authorization: string }, query: string): Promise<string[]> {
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
function expected(app: "alpha" | "beta", match: (id: string) => boolean = () => true): string[] {
  return [...created].filter(([id, c]) => c.app === app && match(id)).sort(([, a], [, b]) => b.seq - a.seq).map(([id]) => id);
}

async function caughtUp(): Promise<void> {
  await eventually(() => expectConsumerDrained(g.h), { timeoutMs: 30_000, intervalMs: 100 });
}

describe("GET /job on NATS", () => {
  it("lists 1,100 jobs of two applications across several index pages: newest first, each once, none of the other's", async () => {
    // The gateway hears of the sleep type through its catalog's watch: wait for it.
    const first = await eventually(() => post(ALPHA, "sleep"), { timeoutMs: 10_000, intervalMs: 100 });
    created.set(first, { app: "alpha", type: "sleep", seq: 0 });
    for (let chunk = 0; chunk < 11; chunk++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const app = (chunk * 100 + i) % 3 === 0 ? "beta" : "alpha";
          const type = i % 4 === 0 ? "sleep" : "sum";
          created.set(await post(app === "alpha" ? ALPHA : BETA, type), { app, type, seq: 0 });
        }),
      );
    }
    // Newest first means the stream order of the requests: read each one's sequence from the stream.
    await Promise.all(
      [...created].map(async ([id, c]) => {
        c.seq = (await g.h.jsm.direct.getMessage(g.h.names.stream, { last_by_subj: g.h.names.requestSubject(id) }))!.seq;
        statusOf.set(id, "queued");
      }),
    );
    await caughtUp();
    expect((await g.h.index.head("alpha"))?.page).toBe(3);
    expect((await g.h.index.head("beta"))?.page).toBe(2);

    expect([expected("alpha").length, expected("beta").length]).toEqual([734, 367]);
    expect(await walk(ALPHA, "limit=97")).toEqual(expected("alpha"));
    expect(await walk(BETA, "limit=500")).toEqual(expected("beta"));
    expect(await walk(BETA, "limit=1&type=nope")).toEqual([]);
  }, 120_000);

  it("filters by status and type once jobs have run", async () => {
    const alpha = expected("alpha");
    const events: JobEvent[] = [];
    alpha.forEach((jobId, i) => {
      if (i % 5 > 2) return;
      events.push({ type: "JobStarted", jobId, time: at(), data: { attempt: 1, runner: "test" } });
      if (i % 5 === 0) events.push({ type: "JobFinished", jobId, time: at(), data: { attempt: 1, outcome: "succeeded", result: { value: i } } });
      if (i % 5 === 1) events.push({ type: "JobFinished", jobId, time: at(), data: { attempt: 1, outcome: "failed", error: { code: "error", message: "no" } } });
      statusOf.set(jobId, (["succeeded", "failed", "running"] as const)[i % 5]!);
    });
    for (let i = 0; i < events.length; i += 200) await Promise.all(events.slice(i, i + 200).map((e) => g.append(e)));
    await caughtUp();

    for (const status of ["queued", "running", "succeeded", "failed", "cancelled"] as const) {
      expect(await walk(ALPHA, `status=${status}&limit=50`), status).toEqual(expected("alpha", (id) => statusOf.get(id) === status));
    }
    expect(await walk(ALPHA, "type=sleep&limit=500")).toEqual(expected("alpha", (id) => created.get(id)!.type === "sleep"));
    const both = (id: string) => created.get(id)!.type === "sum" && statusOf.get(id) === "succeeded";
    expect(await walk(ALPHA, "type=sum&status=succeeded&limit=13")).toEqual(expected("alpha", both));
    expect(await walk(BETA, "status=succeeded")).toEqual([]);
  }, 60_000);

  it("lists the same after a rebuild, and after the index is lost and rebuilt from the stream", async () => {
    const before = await walk(ALPHA, "limit=500");
    const rebuild = (index = g.h.index.kv) => rebuildView({ nc: g.h.nc, names: g.h.names, kv: g.h.kv, index, log: g.h.log });
    const jobs = created.size;
    expect(await rebuild()).toMatchObject({ jobs, equal: jobs, written: 0, indexAppended: 0, indexCorrected: 0, indexRemoved: 0 });

    await g.h.index.kv.destroy();
    const index = new IndexStore(await openIndexBucket(g.h.nc, g.h.names), g.h.names);
    // The same pages as the live projector wrote: every view's indexPage still holds, no view is written.
    expect(await rebuild(index.kv)).toMatchObject({ jobs, equal: jobs, written: 0, indexAppended: jobs });
    expect(await walk(ALPHA, "limit=500")).toEqual(before);
    expect(await walk(ALPHA, "status=failed&limit=20")).toEqual(expected("alpha", (id) => statusOf.get(id) === "failed"));
  }, 60_000);
});
