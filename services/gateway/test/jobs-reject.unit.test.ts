import { describe, expect, it } from "vitest";
import { auth, problemOf, testApp } from "./helper.ts";

/** Every way POST /job can be refused: each is a problem+json answer and nothing is appended. */
describe("POST /job refusals", () => {
  const raw = (payload: string, contentType = "application/json") => ({
    method: "POST" as const,
    url: "/job",
    headers: { ...auth(), "content-type": contentType },
    payload,
  });

  it("400 for malformed JSON", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw('{"type": "sum",'));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).type).toBe("/problems/malformed-json");
    expect(jobs.appended).toEqual([]);
  });

  it("400 for an empty body sent as JSON", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw(""));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).type).toBe("/problems/malformed-json");
    expect(jobs.appended).toEqual([]);
  });

  it("400 for a prototype-poisoning body", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw('{"type":"sum","params":{"a":1,"b":2},"meta":{"__proto__":{"x":1}}}'));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).type).toBe("/problems/malformed-json");
    expect(jobs.appended).toEqual([]);
  });

  it("400 naming each field that fails the schema", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw(JSON.stringify({ params: {}, maxAttempts: 0, timeoutMs: 1.5, meta: [], runAt: "tomorrow", extra: 1 })));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/validation");
    const paths = problem.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(["/body/extra", "/body/maxAttempts", "/body/meta", "/body/runAt", "/body/timeoutMs", "/body/type"]);
    expect(problem.errors).toContainEqual({ path: "/body/type", message: "is required" });
    expect(problem.errors).toContainEqual({ path: "/body/extra", message: "is not allowed" });
    expect(problem.detail).toContain("/body/maxAttempts");
    expect(jobs.appended).toEqual([]);
  });

  it("400 naming priority when it is not high, normal or low", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw(JSON.stringify({ type: "sum", params: { a: 1, b: 2 }, priority: "urgent" })));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: "/body/priority", message: "must be one of: high, normal, low" }]);
    expect(jobs.appended).toEqual([]);
  });

  it("400 naming startBy when it comes before runAt: such a job could never start", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw(JSON.stringify({ type: "sum", params: { a: 1, b: 2 }, runAt: "2030-01-02T03:00:00Z", startBy: "2030-01-02T02:59:59Z" })));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: "/body/startBy", message: expect.stringContaining("before runAt") }]);
    expect(jobs.appended).toEqual([]);
  });

  it("400 for a body that is not an object", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw("[1,2]"));
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: "/body", message: expect.stringContaining("object") }]);
    expect(jobs.appended).toEqual([]);
  });

  it("400 for an unknown type, listing the known ones", async () => {
    const { app, jobs, types } = await testApp();
    const res = await app.inject(raw(JSON.stringify({ type: "fibonaci", params: { n: 1 } })));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    const known = types.list().map((t) => t.name);
    expect(problem.type).toBe("/problems/unknown-job-type");
    expect(problem.knownTypes).toEqual(known);
    expect(problem.errors![0]!.path).toBe("/body/type");
    for (const name of known) {
      expect(problem.detail).toContain(name);
      expect(problem.errors![0]!.message).toContain(name);
    }
    expect(jobs.appended).toEqual([]);
  });

  it("400 for params that fail the type's schema, at /body/params/...", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw(JSON.stringify({ type: "fibonacci", params: { n: 100_001, extra: true } })));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/invalid-params");
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: "/body/params/n", message: expect.stringContaining("100000") },
        { path: "/body/params/extra", message: "is not allowed" },
      ]),
    );
    const notObject = await app.inject(raw(JSON.stringify({ type: "sum", params: [1, 2] })));
    expect(problemOf(notObject).errors).toEqual([{ path: "/body/params", message: expect.stringContaining("object") }]);
    expect(jobs.appended).toEqual([]);
  });

  it("413 for a body over 512 KiB", async () => {
    const { app, jobs } = await testApp();
    const big = JSON.stringify({ type: "external", params: { blob: "x".repeat(512 * 1024) } });
    const res = await app.inject(raw(big));
    expect(res.statusCode).toBe(413);
    expect(problemOf(res).type).toBe("/problems/payload-too-large");
    expect(jobs.appended).toEqual([]);
  });

  it("accepts a body just under the limit", async () => {
    const { app, jobs } = await testApp();
    const body = JSON.stringify({ type: "external", params: { blob: "x".repeat(500 * 1024) } });
    expect((await app.inject(raw(body))).statusCode).toBe(202);
    expect(jobs.appended).toHaveLength(1);
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "application/xml"])("415 for a %s body", async (contentType) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(raw('{"type":"sum","params":{"a":1,"b":2}}', contentType));
    expect(res.statusCode).toBe(415);
    expect(problemOf(res).type).toBe("/problems/unsupported-media-type");
    expect(jobs.appended).toEqual([]);
  });

  it("415 for a body without Content-Type", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject({ method: "POST", url: "/job", headers: { ...auth(), "content-length": "2" }, payload: "{}" });
    expect(res.statusCode).toBe(415);
    expect(problemOf(res).type).toBe("/problems/unsupported-media-type");
    expect(jobs.appended).toEqual([]);
  });
});
