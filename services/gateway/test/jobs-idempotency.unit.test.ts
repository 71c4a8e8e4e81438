import { describe, expect, it } from "vitest";
import { bodyHash } from "../src/http/body-hash.ts";
import { toJobRequested } from "../src/routes/create-job-body.ts";
import { FakeIdempotencyStore } from "./fakes.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

const body = { type: "sum", params: { a: 1, b: 2 }, meta: { order: 7 } };
const post = (key: string | undefined, payload: unknown = body, token?: string) => ({
  method: "POST" as const,
  url: "/job",
  headers: { ...auth(token), "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) },
  payload: typeof payload === "string" ? payload : JSON.stringify(payload),
});

describe("POST /job with an Idempotency-Key", () => {
  it("a repeated key with the same body answers 200 with the first job, appended once", async () => {
    const { app, jobs } = await testApp();
    const first = await app.inject(post("k-1"));
    expect(first.statusCode).toBe(202);
    const again = await app.inject(post("k-1"));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(`/job/${first.json().id}`);
    expect(jobs.appended).toHaveLength(1);
  });

  it("answers the job as it is now, not as it was", async () => {
    const { app, jobs } = await testApp();
    const id = (await app.inject(post("k-now"))).json().id;
    await jobs.seedEvent({ type: "JobStarted", jobId: id, time: new Date().toISOString(), data: { attempt: 1, runner: "r1" } });
    const again = await app.inject(post("k-now"));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id, status: "running", attempts: 1 });
  });

  it("counts the parsed body: other whitespace and key order are the same body", async () => {
    const { app, jobs } = await testApp();
    const first = await app.inject(post("k-order"));
    const reordered = '{ "meta": {"order": 7},\n  "params": { "b": 2, "a": 1 }, "type": "sum" }';
    const again = await app.inject(post("k-order", reordered));
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(jobs.appended).toHaveLength(1);
  });

  it.each([
    ["other params", { ...body, params: { a: 1, b: 3 } }],
    ["an added default", { ...body, maxAttempts: 3 }],
    ["other meta", { ...body, meta: {} }],
  ])("422 problem+json for the same key with %s, appending nothing", async (_label, other) => {
    const { app, jobs } = await testApp();
    const first = await app.inject(post("k-other"));
    const res = await app.inject(post("k-other", other));
    expect(res.statusCode).toBe(422);
    expect(problemOf(res).type).toBe("/problems/idempotency-key-reused");
    expect(jobs.appended.map((e) => e.jobId)).toEqual([first.json().id]);
  });

  it("keys are per application: another app's same key creates its own job", async () => {
    const { app, jobs } = await testApp();
    const alpha = await app.inject(post("shared-key"));
    const beta = await app.inject(post("shared-key", body, OTHER_TOKEN));
    expect(beta.statusCode).toBe(202);
    expect(beta.json().id).not.toBe(alpha.json().id);
    expect(jobs.appended.map((e) => e.data.app)).toEqual(["alpha", "beta"]);
    // ... and another body under it is no conflict across applications either.
    expect((await app.inject(post("k-x", { ...body, params: { a: 5, b: 5 } }, OTHER_TOKEN))).statusCode).toBe(202);
    expect((await app.inject(post("k-x"))).statusCode).toBe(202);
  });

  it.each([
    ["empty", ""],
    ["256 characters", "k".repeat(256)],
    ["non-ASCII", "clé-1"],
    ["a control character", "k\u0001"],
  ])("400 at /headers/idempotency-key for a key that is %s, claiming nothing", async (_label, key) => {
    const { app, jobs, idempotency } = await testApp();
    const res = await app.inject(post(key));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/validation");
    expect(problem.errors!.map((e) => e.path)).toEqual(["/headers/idempotency-key"]);
    expect(jobs.appended).toEqual([]);
    expect(idempotency.claims.size).toBe(0);
  });

  it("accepts 255 printable characters, spaces and symbols included", async () => {
    const { app } = await testApp();
    expect((await app.inject(post("k".repeat(255)))).statusCode).toBe(202);
    expect((await app.inject(post('a key ~!@#$%^&*()"{}'))).statusCode).toBe(202);
  });

  it("a refused body claims nothing: the key stays free for a good one", async () => {
    const { app, jobs, idempotency } = await testApp();
    const bad = await app.inject(post("k-bad", { type: "sum", params: { a: "x" } }));
    expect(bad.statusCode).toBe(400);
    expect(idempotency.claims.size).toBe(0);
    expect((await app.inject(post("k-bad"))).statusCode).toBe(202);
    expect(jobs.appended).toHaveLength(1);
  });

  it("503 when the key cannot be claimed, creating nothing", async () => {
    const { app, jobs, idempotency } = await testApp();
    idempotency.failClaims = "dropped";
    const res = await app.inject(post("k-down"));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(jobs.appended).toEqual([]);
  });

  it("after a 503 on a claim that was in fact made, a retry with the key creates that claim's job: 202", async () => {
    const { app, jobs, idempotency } = await testApp();
    idempotency.failClaims = "stored";
    expect((await app.inject(post("k-half"))).statusCode).toBe(503);
    expect(jobs.appended).toEqual([]);
    const claimed = idempotency.claims.get(FakeIdempotencyStore.keyOf("alpha", "k-half"))!.request;
    idempotency.failClaims = false;

    const retry = await app.inject(post("k-half"));
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ id: claimed.jobId, createdAt: claimed.time });
    expect(jobs.appended).toEqual([claimed]);
  });

  // The store may have stored an append it could not confirm: the retry finds that job (200) or stores it (202).
  it.each([
    ["was not stored", "dropped", 202],
    ["was stored all the same", "stored", 200],
  ] as const)("after a 503 on an append that %s, a retry with the key answers the first request's job, stored once", async (_, fate, status) => {
    const { app, jobs, idempotency } = await testApp();
    jobs.failAppends = fate;
    expect((await app.inject(post("k-retry"))).statusCode).toBe(503);
    const claimed = idempotency.claims.get(FakeIdempotencyStore.keyOf("alpha", "k-retry"))!.request;
    jobs.failAppends = false;

    const retry = await app.inject(post("k-retry"));
    expect(retry.statusCode).toBe(status);
    expect(retry.json()).toMatchObject({ id: claimed.jobId, createdAt: claimed.time });
    expect(jobs.appended).toEqual([claimed]);
    expect(jobs.msgIds).toEqual([`${claimed.jobId}:requested`]);

    const later = await app.inject(post("k-retry"));
    expect(later.statusCode).toBe(200);
    expect(later.json()).toEqual(retry.json());
    expect(jobs.appended).toHaveLength(1);
  });

  it("a key claimed by a request that never appended (a crashed gateway) is completed with that request's exact event", async () => {
    const { app, jobs, idempotency, types } = await testApp();
    const crashed = toJobRequested(body, "alpha", types, new Date("2030-01-01T00:00:00.000Z"));
    await idempotency.claim("alpha", "k-crash", { bodyHash: bodyHash(body), request: crashed });

    const res = await app.inject(post("k-crash"));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: crashed.jobId, createdAt: "2030-01-01T00:00:00.000Z" });
    expect(jobs.appended).toEqual([crashed]);
  });

  it("many concurrent requests with one key create one job: one 202, the rest 200, all the same id", async () => {
    const { app, jobs } = await testApp();
    const answers = await Promise.all(Array.from({ length: 20 }, () => app.inject(post("k-burst"))));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([...Array(19).fill(200), 202]);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(jobs.appended).toHaveLength(1);
  });

  it("without a key, the same body twice is two jobs", async () => {
    const { app, jobs } = await testApp();
    expect((await app.inject(post(undefined))).statusCode).toBe(202);
    expect((await app.inject(post(undefined))).statusCode).toBe(202);
    expect(jobs.appended).toHaveLength(2);
  });
});
