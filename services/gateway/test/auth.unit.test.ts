import { newJobId } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { tokenLookup } from "../src/http/plugins/auth.ts";
import { problemOf, testApp, TOKEN } from "./helper.ts";

const guarded = [
  { method: "POST" as const, url: "/job", payload: { type: "sum", params: { a: 1, b: 2 } } },
  { method: "GET" as const, url: `/job/${newJobId()}` },
  { method: "GET" as const, url: "/job-types" },
];

describe("bearer authentication", () => {
  it.each(guarded)("401 without a token: $method $url", async (route) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(route);
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="jobs"');
    expect(problemOf(res).type).toBe("/problems/unauthorized");
    expect(jobs.appended).toEqual([]);
  });

  it.each([
    ["a wrong token", "Bearer nope"],
    ["a token of another length", `Bearer ${TOKEN}x`],
    ["another scheme", `Basic ${Buffer.from(`a:${TOKEN}`).toString("base64")}`],
  ])("401 invalid_token with %s", async (_label, authorization) => {
    const { app, jobs } = await testApp();
    for (const route of guarded) {
      const res = await app.inject({ ...route, headers: { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="jobs", error="invalid_token"');
      expect(problemOf(res).type).toBe("/problems/unauthorized");
    }
    expect(jobs.appended).toEqual([]);
  });

  it("checks the token before reading the body", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "POST", url: "/job", headers: { "content-type": "application/json" }, payload: "{bad json" });
    expect(res.statusCode).toBe(401);
  });

  it("accepts the scheme in any case and records the caller's application", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject({ ...guarded[0]!, headers: { authorization: `bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(202);
    expect(jobs.appended[0]!.data.app).toBe("alpha");
  });

  it("leaves the probes public", async () => {
    const { app } = await testApp();
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("maps each token to its application, or to an operator", () => {
    const lookup = tokenLookup(new Map([["t1", "one"], ["t2", "two"]]), ["op"]);
    expect([lookup("t1"), lookup("t2"), lookup("op"), lookup("t3"), lookup("")]).toEqual([
      { kind: "application", app: "one" },
      { kind: "application", app: "two" },
      { kind: "operator" },
      undefined,
      undefined,
    ]);
  });
});
