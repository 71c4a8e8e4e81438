import { INDEX_PAGE_SIZE, newJobId, type JobEvent } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../src/jobs/list-cursor.ts";
import { StoreUnavailableError } from "../src/ports.ts";
import { auth, OTHER_TOKEN, problemOf, testApp, type TestApp } from "./helper.ts";

/** GET /job through inject, over the fake store (which lists with the real listing code). */
type Listed = { items: { id: string; type: string; status: string }[]; next: string | null };

const list = async (t: TestApp, query = "", token?: string) => {
  const res = await t.app.inject({ method: "GET", url: `/job${query}`, headers: auth(token) });
  return { res, body: res.json() as Listed };
};

async function seed(t: TestApp, app: string, count: number, type = "sum"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await t.jobs.seedJob(app, newJobId(), type)).id);
  return ids;
}

const time = () => new Date().toISOString();
const start = (jobId: string): JobEvent => ({ type: "JobStarted", jobId, time: time(), data: { attempt: 1, runner: "r" } });
const finish = (jobId: string, outcome: "succeeded" | "failed"): JobEvent => ({
  type: "JobFinished",
  jobId,
  time: time(),
  data: outcome === "succeeded" ? { attempt: 1, outcome, result: 1 } : { attempt: 1, outcome, error: { code: "error", message: "no" } },
});

/** Follows `next` to the end; every page's answer must be 200. */
async function walk(t: TestApp, query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = query === "" ? "?" : "&";
    const { res, body } = await list(t, cursor === null ? query : `${query}${sep}cursor=${cursor}`);
    expect(res.statusCode).toBe(200);
    ids.push(...body.items.map((j) => j.id));
    cursor = body.next;
    pages++;
  } while (cursor !== null);
  return { ids, pages };
}

describe("GET /job", () => {
  it("lists the caller's jobs only, newest first, as jobs", async () => {
    const t = await testApp();
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(...(await seed(t, "alpha", 1)));
      await seed(t, "beta", 1);
    }
    const { res, body } = await list(t);
    expect(res.statusCode).toBe(200);
    expect(body.items.map((j) => j.id)).toEqual(mine.toReversed());
    expect(body.next).toBeNull();
    expect(body.items[0]).toMatchObject({ type: "sum", status: "queued", attempts: 0 });
    for (const key of ["app", "seq", "timeoutMs", "indexPage"]) expect(body.items[0]).not.toHaveProperty(key);
    const theirs = await list(t, "", OTHER_TOKEN);
    expect(theirs.body.items).toHaveLength(5);
    expect(theirs.body.items.some((j) => mine.includes(j.id))).toBe(false);
  });

  it("answers an application with no jobs with an empty last page", async () => {
    const t = await testApp();
    await seed(t, "beta", 3);
    const { res, body } = await list(t);
    expect(res.statusCode).toBe(200);
    expect(body).toEqual({ items: [], next: null });
  });

  it("filters by status and by type, on the job as it is now", async () => {
    const t = await testApp();
    const sums = await seed(t, "alpha", 6, "sum");
    const sleeps = await seed(t, "alpha", 3, "sleep");
    for (const id of [sums[0]!, sums[2]!, sleeps[1]!]) await t.jobs.seedEvent(start(id));
    await t.jobs.seedEvent(finish(sums[0]!, "succeeded"));
    await t.jobs.seedEvent(finish(sleeps[1]!, "failed"));
    const ids = async (q: string) => (await list(t, q)).body.items.map((j) => j.id);
    expect(await ids("?status=succeeded")).toEqual([sums[0]]);
    expect(await ids("?status=running")).toEqual([sums[2]]);
    expect(await ids("?status=failed")).toEqual([sleeps[1]]);
    expect(await ids("?type=sleep")).toEqual(sleeps.toReversed());
    expect(await ids("?type=sum&status=queued")).toEqual([sums[5], sums[4], sums[3], sums[1]]);
    expect(await ids("?type=pi")).toEqual([]);
  });

  it("pages through several index pages with no job twice and none missed, newest first", async () => {
    const t = await testApp();
    const first = await seed(t, "alpha", INDEX_PAGE_SIZE + 40);
    await seed(t, "beta", 10);
    const mine = [...first, ...(await seed(t, "alpha", INDEX_PAGE_SIZE - 3))]; // three index pages
    for (const limit of [7, 50, 256, 500]) {
      const { ids, pages } = await walk(t, `?limit=${limit}`);
      expect(ids).toEqual(mine.toReversed());
      expect(pages).toBe(Math.ceil(mine.length / limit));
    }
    // The default page size is 50.
    expect((await list(t)).body.items).toHaveLength(50);
  });

  it("pages through a filtered listing to the same jobs as one unfiltered walk filtered", async () => {
    const t = await testApp();
    const ids = await seed(t, "alpha", 300);
    const done = ids.filter((_, i) => i % 7 === 3);
    for (const id of done) {
      await t.jobs.seedEvent(start(id));
      await t.jobs.seedEvent(finish(id, "succeeded"));
    }
    expect((await walk(t, "?status=succeeded&limit=4")).ids).toEqual(done.toReversed());
    expect((await walk(t, "?status=queued&limit=33")).ids).toEqual(ids.filter((id) => !done.includes(id)).toReversed());
  });

  it("refuses a limit outside 1..500 or not an integer, with the path of the field", async () => {
    const t = await testApp();
    await seed(t, "alpha", 2);
    for (const bad of ["0", "501", "-1", "1.5", "1e2", "0x10", "abc", ""]) {
      const { res } = await list(t, `?limit=${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(problemOf(res).errors?.map((e) => e.path)).toContain("/querystring/limit");
    }
    expect((await list(t, "?limit=1")).body.items).toHaveLength(1);
    expect((await list(t, "?limit=500")).res.statusCode).toBe(200);
  });

  it("refuses an unknown status and an unknown query parameter", async () => {
    const t = await testApp();
    const status = await list(t, "?status=done");
    expect(status.res.statusCode).toBe(400);
    expect(problemOf(status.res).errors?.map((e) => e.path)).toContain("/querystring/status");
    const extra = await list(t, "?stauts=failed");
    expect(extra.res.statusCode).toBe(400);
    expect(problemOf(extra.res).errors?.map((e) => e.path)).toContain("/querystring/stauts");
  });

  it("refuses a cursor it did not give, with the path /querystring/cursor", async () => {
    const t = await testApp();
    await seed(t, "alpha", 3);
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    const bad = ["%%%", "x", b64("not json"), b64("[1]"), b64('{"p":0}'), b64('{"p":1,"b":0}'), b64('{"p":1.5}'), b64('{"p":1,"x":2}'), b64('{"p":"1"}')];
    for (const cursor of [...bad, encodeCursor({ page: 2 })]) {
      const { res } = await list(t, `?cursor=${encodeURIComponent(cursor)}`);
      expect(res.statusCode, cursor).toBe(400);
      const problem = problemOf(res);
      expect(problem.type).toBe("/problems/validation");
      expect(problem.errors).toEqual([{ path: "/querystring/cursor", message: expect.any(String) }]);
    }
  });

  it("needs a token", async () => {
    const t = await testApp();
    const res = await t.app.inject({ method: "GET", url: "/job" });
    expect(res.statusCode).toBe(401);
  });

  it("answers 503 with Retry-After when the store cannot be read", async () => {
    const t = await testApp();
    t.jobs.list = async () => {
      throw new StoreUnavailableError("timeout talking to NATS");
    };
    const { res } = await list(t);
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
  });
});
