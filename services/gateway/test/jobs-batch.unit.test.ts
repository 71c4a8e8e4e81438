import { isJobId } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { BATCH_BODY_LIMIT } from "../src/routes/job-batch.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

const batch = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST" as const,
  url: "/job/batch",
  headers: { ...auth(), ...headers },
  payload: body as object,
});

interface Item {
  index: number;
  status: number;
  job?: { id: string; type: string; status: string; params: unknown; meta: unknown };
  error?: { type: string; status: number; detail: string; errors?: { path: string; message: string }[]; knownTypes?: string[] };
}

const deep = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { v };
  return v;
};

describe("POST /job/batch", () => {
  it("answers 207 with one result per job in order: good jobs stored in one write, each bad one refused as it would be alone", async () => {
    const { app, jobs } = await testApp();
    const body = {
      jobs: [
        { type: "sum", params: { a: 1, b: 2 }, meta: { n: 0 } },
        { params: { a: 1 } },
        { type: "nope" },
        { type: "fibonacci", params: { n: -1 } },
        { type: "sleep", params: { ms: 5 }, extra: true },
        { type: "external", params: deep(40) },
        { type: "external", meta: { big: "x".repeat(600 * 1024) } },
        { type: "fibonacci", params: { n: 10 }, runAt: "2031-01-01T00:00:00+01:00" },
        "not an object",
      ],
    };
    const res = await app.inject(batch(body));
    expect(res.statusCode).toBe(207);
    const items: Item[] = res.json().items;
    expect(items.map((i) => [i.index, i.status])).toEqual([
      [0, 202],
      [1, 400],
      [2, 400],
      [3, 400],
      [4, 400],
      [5, 400],
      [6, 413],
      [7, 202],
      [8, 400],
    ]);
    const paths = (i: number) => items[i]!.error!.errors?.map((e) => e.path);
    expect(paths(1)).toEqual(["/body/jobs/1/type"]);
    expect(items[2]!.error).toMatchObject({ type: "/problems/unknown-job-type", status: 400, knownTypes: expect.arrayContaining(["sum"]) });
    expect(paths(2)).toEqual(["/body/jobs/2/type"]);
    expect(items[3]!.error).toMatchObject({ type: "/problems/invalid-params", status: 400 });
    expect(paths(3)).toEqual(["/body/jobs/3/params/n"]);
    expect(items[3]!.error!.detail).toContain("/body/jobs/3/params/n");
    expect(paths(4)).toEqual(["/body/jobs/4/extra"]);
    expect(paths(5)).toEqual(["/body/jobs/5/params"]);
    expect(items[6]!.error).toMatchObject({ type: "/problems/payload-too-large", status: 413 });
    expect(paths(8)).toEqual(["/body/jobs/8"]);
    for (const bad of items.filter((i) => i.status !== 202)) expect(bad.job).toBeUndefined();

    // The good ones: created, stored once each in request order, with one appendMany call for the lot.
    const created = [items[0]!, items[7]!].map((i) => i.job!);
    expect(created.map((j) => [j.type, j.status, isJobId(j.id)])).toEqual([
      ["sum", "queued", true],
      ["fibonacci", "queued", true],
    ]);
    expect(created[0]!.meta).toEqual({ n: 0 });
    expect(jobs.appendManyCalls).toBe(1);
    expect(jobs.appended.map((e) => e.jobId)).toEqual(created.map((j) => j.id));
    expect(jobs.appended[1]!.data).toMatchObject({ app: "alpha", runAt: "2030-12-31T23:00:00.000Z", maxAttempts: 3 });
    expect(jobs.msgIds).toEqual(created.map((j) => `${j.id}:requested`));
    for (const job of created) {
      const read = await app.inject({ method: "GET", url: `/job/${job.id}`, headers: auth() });
      expect(read.json()).toEqual(job);
      // Owned by the batch's application, like a job of POST /job.
      expect((await app.inject({ method: "GET", url: `/job/${job.id}`, headers: auth(OTHER_TOKEN) })).statusCode).toBe(404);
    }
  });

  // A write the store cannot confirm may have stored the event or not: it is a 503 item either way.
  it.each([
    ["was not stored", "dropped", [{ ms: 0 }, { ms: 2 }]],
    ["was stored all the same", "stored", [{ ms: 0 }, { ms: 1 }, { ms: 2 }, { ms: 3 }]],
  ] as const)("answers 503 for exactly the jobs whose event was not confirmed (it %s), and 202 for the others", async (_, fate, stored) => {
    const { app, jobs } = await testApp();
    jobs.failAppendOf = (event) => ((event.data.params as { ms: number }).ms % 2 === 1 ? fate : false);
    const res = await app.inject(batch({ jobs: [0, 1, 2, 3].map((ms) => ({ type: "sleep", params: { ms } })) }));
    expect(res.statusCode).toBe(207);
    const items: Item[] = res.json().items;
    expect(items.map((i) => i.status)).toEqual([202, 503, 202, 503]);
    expect(items[1]!.error).toMatchObject({ type: "/problems/event-not-stored", status: 503 });
    expect(jobs.appended.map((e) => e.data.params)).toEqual(stored);
  });

  it("takes the full 1000 jobs in one write, with ids in request order", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(batch({ jobs: Array.from({ length: 1000 }, (_, n) => ({ type: "sleep", params: { ms: n } })) }));
    expect(res.statusCode).toBe(207);
    const items: Item[] = res.json().items;
    expect(items.every((i, n) => i.index === n && i.status === 202 && (i.job!.params as { ms: number }).ms === n)).toBe(true);
    const ids = items.map((i) => i.job!.id);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    expect(jobs.appendManyCalls).toBe(1);
    expect(jobs.appended).toHaveLength(1000);
  });

  it("accepts a body over POST /job's limit, up to its own", async () => {
    const { app, jobs } = await testApp();
    const meta = { pad: "x".repeat(100 * 1024) };
    const res = await app.inject(batch({ jobs: Array.from({ length: 20 }, () => ({ type: "sleep", params: { ms: 0 }, meta })) }));
    expect(res.statusCode).toBe(207);
    expect(jobs.appended).toHaveLength(20);
  });

  it.each([
    ["not an object", [1, 2], "/body"],
    ["no jobs", { items: [] }, "/body/jobs"],
    ["jobs not a list", { jobs: { type: "sum" } }, "/body/jobs"],
    ["an empty list", { jobs: [] }, "/body/jobs"],
    ["over 1000 jobs", { jobs: Array.from({ length: 1001 }, () => ({ type: "sleep", params: { ms: 0 } })) }, "/body/jobs"],
    ["another field", { jobs: [{ type: "sum", params: { a: 1, b: 1 } }], dryRun: true }, "/body/dryRun"],
  ])("answers 400 for the whole request when the body is %s, and stores nothing", async (_, body, path) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(batch(body));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toContain(path);
    expect(jobs.appended).toHaveLength(0);
  });

  it("refuses an Idempotency-Key with 400 and stores nothing", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(batch({ jobs: [{ type: "sleep", params: { ms: 0 } }] }, { "idempotency-key": "k-1" }));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: "/headers/idempotency-key", message: expect.stringContaining("not supported") }]);
    expect(jobs.appended).toHaveLength(0);
  });

  it("answers 413 over its body limit, 415 for a body that is not JSON, 401 without a token", async () => {
    const { app, jobs } = await testApp();
    const huge = await app.inject(batch({ jobs: [{ type: "sleep", meta: { pad: "x".repeat(BATCH_BODY_LIMIT) } }] }));
    expect(huge.statusCode).toBe(413);
    expect(problemOf(huge).detail).toContain(String(BATCH_BODY_LIMIT));
    const text = await app.inject({ method: "POST", url: "/job/batch", headers: { ...auth(), "content-type": "text/plain" }, payload: "jobs" });
    expect(text.statusCode).toBe(415);
    const anonymous = await app.inject({ method: "POST", url: "/job/batch", payload: { jobs: [{ type: "sleep", params: { ms: 0 } }] } });
    expect(anonymous.statusCode).toBe(401);
    expect(jobs.appended).toHaveLength(0);
  });
});
