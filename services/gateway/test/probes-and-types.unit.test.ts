import { describe, expect, it } from "vitest";
import { auth, problemOf, testApp } from "./helper.ts";
import { BUILT_IN_TYPES } from "./fakes.ts";

describe("probes, job types and unknown routes", () => {
  it("/healthz is always ok, even when not ready", async () => {
    const { app, readiness } = await testApp();
    readiness.ready = false;
    const res = await app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("/readyz follows readiness: 200, then 503 with Retry-After", async () => {
    const { app, readiness } = await testApp();
    const ok = await app.inject({ method: "GET", url: "/readyz" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: "ready" });

    readiness.ready = false;
    const down = await app.inject({ method: "GET", url: "/readyz" });
    expect(down.statusCode).toBe(503);
    expect(down.headers["retry-after"]).toBe("2");
    expect(problemOf(down)).toMatchObject({ type: "/problems/not-ready", detail: readiness.reason });
  });

  it("/readyz is 503 when the check itself fails, without its text", async () => {
    const { app, readiness } = await testApp();
    readiness.check = async () => {
      throw new Error("internal boom");
    };
    const res = await app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain("boom");
  });

  it("/job-types lists every type with its params schema", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "GET", url: "/job-types", headers: auth() });
    expect(res.statusCode).toBe(200);
    const expected = [...BUILT_IN_TYPES].sort((a, b) => a.name.localeCompare(b.name));
    expect(res.json()).toEqual({ items: expected });
  });

  it("unknown paths are 404 problems (a known path with another method is a 405: http-methods.unit.test.ts)", async () => {
    const { app } = await testApp();
    for (const req of [{ method: "GET" as const, url: "/nope" }, { method: "DELETE" as const, url: "/jobs" }]) {
      const res = await app.inject(req);
      expect(res.statusCode).toBe(404);
      expect(problemOf(res).type).toBe("/problems/not-found");
    }
  });

  it("a malformed URL is a problem too", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "GET", url: "/job/%E0%A4%A" , headers: auth() });
    expect(res.statusCode).toBe(400);
    problemOf(res);
  });
});
