import { isJobId } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { BUILT_IN_TYPES, SAMPLE_PARAMS } from "./fakes.ts";
import { auth, problemOf, testApp } from "./helper.ts";

const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST" as const,
  url: "/job",
  headers: { ...auth(), ...headers },
  payload: body as object,
});

describe("POST /job", () => {
  // Every type the runner announces, with its sample params (a type without one fails here).
  it.each(BUILT_IN_TYPES.map((t) => [t.name, SAMPLE_PARAMS[t.name]]))("accepts a %s job: 202, Location and the queued job", async (type, params) => {
    expect(params, `SAMPLE_PARAMS lacks ${type}`).toBeDefined();
    const { app, jobs } = await testApp();
    const res = await app.inject(post({ type, params }));

    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(isJobId(job.id)).toBe(true);
    expect(res.headers.location).toBe(`/job/${job.id}`);
    expect(job).toEqual({
      id: job.id,
      type,
      status: "queued",
      params,
      meta: {},
      progress: null,
      result: null,
      error: null,
      attempts: 0,
      maxAttempts: 3,
      createdAt: job.createdAt,
      startedAt: null,
      finishedAt: null,
      updatedAt: job.createdAt,
      priority: "normal",
      runAt: null,
      startBy: null,
      scheduleId: null,
    });
    expect(new Date(job.createdAt).toISOString()).toBe(job.createdAt);

    // Exactly one request event, stored before the answer, with the id as message id (dedup).
    expect(jobs.appended).toHaveLength(1);
    expect(jobs.appended[0]).toMatchObject({ jobId: job.id, data: { app: "alpha", jobType: type, params, timeoutMs: 600_000, runAt: null, priority: "normal", startBy: null, scheduleId: null } });
    expect(jobs.msgIds).toEqual([`${job.id}:requested`]);
  });

  it("stores the optional fields as sent and returns meta exactly", async () => {
    const { app, jobs } = await testApp();
    const meta = { trace: "a/b", nested: { list: [1, "two", null, { deep: true }], empty: {} }, "ünïcode key": "✓", n: -0.5 };
    const res = await app.inject(
      post({ type: "sum", params: { a: 1, b: 2 }, meta, maxAttempts: 7, timeoutMs: 1234, runAt: "2030-01-02T03:04:05+02:00" }),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json().meta).toEqual(meta);
    expect(res.json().maxAttempts).toBe(7);
    expect(jobs.appended[0]!.data).toMatchObject({ meta, maxAttempts: 7, timeoutMs: 1234, runAt: "2030-01-02T01:04:05.000Z" });

    const read = await app.inject({ method: "GET", url: res.headers.location as string, headers: auth() });
    expect(read.statusCode).toBe(200);
    expect(read.json().meta).toEqual(meta);
    expect(JSON.stringify(read.json().meta)).toBe(JSON.stringify(meta));
  });

  it("stores a priority and a startBy, in UTC, and shows them on the job", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(post({ type: "sum", params: { a: 1, b: 2 }, priority: "high", runAt: "2030-01-02T03:00:00Z", startBy: "2030-01-02T05:00:00+01:00" }));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ priority: "high", runAt: "2030-01-02T03:00:00.000Z", startBy: "2030-01-02T04:00:00.000Z", scheduleId: null });
    expect(jobs.appended[0]!.data).toMatchObject({ priority: "high", startBy: "2030-01-02T04:00:00.000Z" });
  });

  it("answers GET right after the 202 with the same job", async () => {
    const { app } = await testApp();
    const created = await app.inject(post({ type: "fibonacci", params: { n: 3 } }));
    const read = await app.inject({ method: "GET", url: created.headers.location as string, headers: auth() });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created.json());
  });

  it("defaults missing params to {} and checks that against the type", async () => {
    const { app, jobs } = await testApp();
    expect((await app.inject(post({ type: "external" }))).json().params).toEqual({});
    const res = await app.inject(post({ type: "sleep" }));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: "/body/params/ms", message: "is required" }]);
    expect(jobs.appended).toHaveLength(1);
  });

  // An append the store cannot confirm may have stored the event or not: the answer is the same 503.
  it.each([
    ["was not stored", "dropped", 0],
    ["was stored all the same", "stored", 1],
  ] as const)("answers 503 with Retry-After when the store cannot confirm the event (it %s)", async (_, fate, stored) => {
    const { app, jobs } = await testApp();
    jobs.failAppends = fate;
    const res = await app.inject(post({ type: "sum", params: { a: 1, b: 2 } }));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(problemOf(res).type).toBe("/problems/event-not-stored");
    expect(problemOf(res).detail).not.toContain("fake outage"); // 5xx hide internal text
    expect(res.headers.location).toBeUndefined();
    expect(jobs.appended).toHaveLength(stored);
  });
});
