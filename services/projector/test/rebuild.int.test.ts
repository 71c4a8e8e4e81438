import { afterEach, describe, expect, it } from "vitest";
import { FOLD_VERSION, newJobId, type JobView } from "@jobs/core";
import { IndexStore, openIndexBucket, openViewBucket, ViewStore, type KV } from "@jobs/nats";
import { eventually } from "../../../test/support/eventually.ts";
import { rebuildView } from "../src/rebuild.ts";
import { expectConsumerDrained, expectViewsFolded, publishJobs, startHarness, type Harness } from "./harness.ts";
import { expectIndexMatchesViews, readChain } from "./index-check.ts";

/**
 * The rebuild against a real nats-server, after a live projector has caught up: it
 * finds nothing to change, and it restores what the live fold had after the bucket (or
 * the listing index) was damaged or lost. Each test folds its own jobs on its own server.
 */
interface LiveFold {
  h: Harness;
  ids: string[];
  /** The bucket as the live projector left it: key -> JSON. */
  live: Map<string, string>;
  /** The listing index as the live projector left it: key -> JSON. */
  liveIndex: Map<string, string>;
}

const opened: Harness[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((h) => h.dispose()));
});

/** `jobs` jobs published on a fresh server and folded by a live projector, which is then stopped. 300 fill two index pages. */
async function liveFold(jobs: number): Promise<LiveFold> {
  const h = await startHarness("rebuild");
  opened.push(h);
  const projector = h.startProjector();
  const ids = await publishJobs(h, jobs);
  await eventually(() => expectViewsFolded(h, ids), { timeoutMs: 20_000, intervalMs: 200 });
  await eventually(() => expectConsumerDrained(h));
  await projector.stop();
  const live = new Map([...(await bucketContents(h.kv))].map(([k, v]) => [k, v.value]));
  expect(live.size).toBe(ids.length);
  const liveIndex = new Map([...(await bucketContents(h.index.kv))].map(([k, v]) => [k, v.value]));
  return { h, ids, live, liveIndex };
}

async function bucketContents(kv: KV): Promise<Map<string, { value: string; revision: number }>> {
  const out = new Map<string, { value: string; revision: number }>();
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (e?.operation === "PUT") out.set(key, { value: e.string(), revision: e.revision });
  }
  return out;
}

const rebuild = ({ h }: LiveFold, kv: KV = h.kv) => rebuildView({ nc: h.nc, names: h.names, kv, log: h.log });

/** Same keys, and each value parses to the same view (the bytes may differ in key order). */
async function expectBucketEqualsLive({ live }: LiveFold, kv: KV) {
  const now = await bucketContents(kv);
  expect([...now.keys()].sort()).toEqual([...live.keys()].sort());
  for (const [key, json] of live) expect(JSON.parse(now.get(key)!.value), key).toEqual(JSON.parse(json));
}

describe("rebuildView", () => {
  it("finds nothing to change after the live projector caught up, and leaves the bucket and the index untouched", async () => {
    const w = await liveFold(300);
    const { h, ids } = w;
    expect([...w.liveIndex.keys()].sort()).toEqual(["app.head", "app.p.1", "app.p.2"]);
    const before = await bucketContents(h.kv);
    const indexBefore = await bucketContents(h.index.kv);
    const events = [...h.stored.values()].reduce((n, list) => n + list.length, 0);
    const summary = await rebuild(w);
    expect(summary).toMatchObject({ eventsRead: events, undecodable: 0, orphanEvents: 0, jobs: ids.length, written: 0, differed: 0, equal: ids.length, orphansRemoved: 0 });
    expect(summary).toMatchObject({ indexAppended: 0, indexCorrected: 0, indexRemoved: 0 });
    expect(await bucketContents(h.kv)).toEqual(before); // same values, same revisions
    expect(await bucketContents(h.index.kv)).toEqual(indexBefore);
  });

  it("lays out the very index the live projector wrote after the index bucket was deleted", async () => {
    const w = await liveFold(300);
    const { h, ids, liveIndex } = w;
    await h.index.kv.destroy();
    h.index = new IndexStore(await openIndexBucket(h.nc, h.names), h.names);
    const summary = await rebuild(w);
    // Same pages in the same order: every view still names the right page, none is written.
    expect(summary).toMatchObject({ indexAppended: ids.length, written: 0, equal: ids.length });
    // Entries compared without their seq: a live entry keeps the seq of its last status change, a rebuilt one the view's.
    const layout = (json: string) => {
      const v = JSON.parse(json) as { page?: number; entries?: { id: string; type: string; status: string }[] };
      return v.entries?.map(({ id, type, status }) => [id, type, status]) ?? v;
    };
    const now = await bucketContents(h.index.kv);
    expect(new Map([...now].map(([k, v]) => [k, layout(v.value)]))).toEqual(new Map([...liveIndex].map(([k, v]) => [k, layout(v)])));
  });

  it("repairs a corrupted view, a missing one and an unparseable one, and removes a view with no events", async () => {
    const w = await liveFold(30);
    const { h, ids } = w;
    const views = new ViewStore(h.kv);
    const [corrupt, missing, garbage] = [ids[3]!, ids[7]!, ids[11]!];
    const entry = (await views.get(corrupt))!;
    await views.save({ ...entry.view, status: "running", result: null } as JobView, entry.revision);
    await h.kv.delete(missing);
    await h.kv.put(garbage, "{ not a view");
    const orphan = newJobId();
    await h.kv.put(orphan, JSON.stringify({ ...entry.view, id: orphan }));

    const summary = await rebuild(w);
    expect(summary).toMatchObject({ jobs: ids.length, created: 1, differed: 2, behind: 0, written: 3, equal: ids.length - 3, ahead: 0, orphansRemoved: 1 });
    await expectBucketEqualsLive(w, h.kv);
    expect(await h.kv.get(orphan)).toMatchObject({ operation: "DEL" });
  });

  it("rewrites a view of another fold version, and one stored without a version (fold 1, before priorities)", async () => {
    const w = await liveFold(30);
    const { h, ids } = w;
    const views = new ViewStore(h.kv);
    const [outdated, unversioned] = [(await views.get(ids[13]!))!, (await views.get(ids[17]!))!];
    // As an older fold would have left it: another version, another shape of the same events.
    await h.kv.put(outdated.view.id, JSON.stringify({ ...outdated.view, meta: { folded: "differently" }, foldVersion: FOLD_VERSION + 1 }));
    expect(await views.get(outdated.view.id)).toBeNull(); // readers do not trust it: they fold the job from the stream
    // As written before views carried a version: fold 1, without the fields fold 2 added.
    const { priority: _p, startBy: _s, scheduleId: _i, ...fold1 } = unversioned.view;
    await h.kv.put(unversioned.view.id, JSON.stringify(fold1));
    expect(await views.get(unversioned.view.id)).toBeNull();

    const summary = await rebuild(w);
    // The fold-1 view no longer decodes as a view (fold 2 added fields): the rebuild counts it as differing.
    expect(summary).toMatchObject({ outdated: 1, differed: 1, written: 2, equal: ids.length - 2 });
    expect((await views.get(outdated.view.id))?.view).toEqual(outdated.view);
    expect((await views.get(unversioned.view.id))?.view).toEqual(unversioned.view);
  });

  it("restores exactly what the live fold had after the bucket was deleted", async () => {
    const w = await liveFold(30);
    const { h, ids } = w;
    await h.kv.destroy();
    const kv = await openViewBucket(h.nc, h.names);
    expect((await kv.status()).values).toBe(0);
    const summary = await rebuild(w, kv);
    expect(summary).toMatchObject({ jobs: ids.length, created: ids.length, written: ids.length, differed: 0, equal: 0, orphansRemoved: 0 });
    await expectBucketEqualsLive(w, kv);
  });

  it("runs alongside a live projector and a stream of new events; the views end as the fold", async () => {
    const w = await liveFold(30);
    const { h, ids } = w;
    const projector = h.startProjector();
    const publishing = publishJobs(h, 300);
    const summary = await rebuild(w);
    const more = await publishing;
    expect(summary.differed).toBe(0); // lagging or newer live views, never a different fold of the same events
    await eventually(() => expectViewsFolded(h, [...ids, ...more]), { timeoutMs: 20_000, intervalMs: 200 });
    await eventually(() => expectConsumerDrained(h));
    await projector.stop();
    await expectIndexMatchesViews(h, [...ids, ...more]);
  });

  it("leaves alone a view the live projector has moved past the rebuilt one", async () => {
    const w = await liveFold(30);
    const { h, ids } = w;
    const views = new ViewStore(h.kv);
    const id = ids[0]!;
    const entry = (await views.get(id))!;
    // As if a live projector had folded an event published after the rebuild's scan started.
    const ahead = { ...entry.view, seq: entry.view.seq + 1_000_000 };
    await views.save(ahead, entry.revision);
    const summary = await rebuild(w);
    expect(summary).toMatchObject({ ahead: 1, written: 0, equal: summary.jobs - 1 });
    expect((await views.get(id))!.view).toEqual(ahead);
  });

  it("repairs a damaged index: a wrong status, a lost entry, a copy, an entry of a job with no events", async () => {
    const w = await liveFold(300);
    const { h, ids } = w;
    const [first, second] = [(await h.index.page("app", 1))!, (await h.index.page("app", 2))!];
    const [wrong, lost, copied] = [first.entries[5]!, first.entries[9]!, second.entries[3]!];
    const ghost = { id: newJobId(), type: "sum", status: "queued" as const, seq: 1 };
    const damaged = first.entries
      .filter((e) => e.id !== lost.id)
      .map((e) => (e.id === wrong.id ? { ...e, status: wrong.status === "running" ? ("failed" as const) : ("running" as const) } : e));
    await h.index.savePage("app", 1, [...damaged, copied, ghost], first.revision);

    const summary = await rebuild(w);
    expect(summary).toMatchObject({ indexCorrected: 1, indexRemoved: 2, indexAppended: 1, jobs: ids.length });
    expect(summary.differed).toBe(1); // the lost job's view moves to the page it is appended to
    await expectIndexMatchesViews(h, ids);
    const chain = await readChain(h, "app");
    expect(chain.length).toBe(ids.length);
    expect(chain.at(-1)!.entry.id).toBe(lost.id);
  });
});
