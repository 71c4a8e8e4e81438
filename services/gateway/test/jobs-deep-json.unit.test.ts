import { describe, expect, it } from "vitest";
import { auth, problemOf, testApp } from "./helper.ts";

/** Deeply nested JSON must be a 400 naming the field, never a stack overflow (500). */
describe("POST /job with deeply nested JSON", () => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const post = (body: string, headers: Record<string, string> = {}) => ({
    method: "POST" as const,
    url: "/job",
    headers: { ...auth(), "content-type": "application/json", ...headers },
    payload: body,
  });

  for (const field of ["meta", "params"] as const) {
    it(`400 for ${field} nested deeper than the limit, nothing appended`, async () => {
      const { app, jobs } = await testApp();
      const value = `{"a":${nested(100_000)},"b":1}`;
      const other = field === "meta" ? `"params":{"a":1,"b":2}` : `"meta":{}`;
      const res = await app.inject(post(`{"type":"sum",${other},"${field}":${value}}`, { "idempotency-key": "deep-1" }));
      expect(res.statusCode).toBe(400);
      const problem = problemOf(res);
      expect(problem.errors?.[0]?.path).toBe(`/body/${field}`);
      expect(problem.errors?.[0]?.message).toMatch(/nested deeper than 32/);
      expect(jobs.appended).toEqual([]);
    });
  }

  it("accepts nesting up to the limit", async () => {
    const { app } = await testApp();
    const res = await app.inject(post(`{"type":"sum","params":{"a":1,"b":2},"meta":{"x":${nested(30)}}}`));
    expect(res.statusCode).toBe(202);
  });
});
