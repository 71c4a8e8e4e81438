import { newJobId } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/ports.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

describe("GET /job/:id", () => {
  it("returns the caller's own job", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    const res = await app.inject({ method: "GET", url: `/job/${view.id}`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: view.id, type: "sum", status: "queued" });
    // Service-only fields of the view stay inside.
    for (const key of ["app", "seq", "timeoutMs"]) expect(res.json()).not.toHaveProperty(key);
  });

  it("answers another application's job, an unknown id and a malformed id with the same 404", async () => {
    const { app, jobs } = await testApp();
    const foreign = await jobs.seedJob("alpha", newJobId());
    const unknown = newJobId();
    const bodies = [];
    for (const id of [foreign.id, unknown, "not-a-job-id", "..%2A", "A".repeat(27)]) {
      const res = await app.inject({ method: "GET", url: `/job/${id}`, headers: auth(OTHER_TOKEN) });
      expect(res.statusCode).toBe(404);
      const { detail, ...rest } = problemOf(res);
      expect(detail).toContain("No job");
      bodies.push(rest);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ type: "/problems/job-not-found", title: "Job not found", status: 404 });
  });

  it("never looks up a malformed id", async () => {
    const { app, jobs } = await testApp();
    const looked: string[] = [];
    const get = jobs.get.bind(jobs);
    jobs.get = async (id) => (looked.push(id), get(id));
    await app.inject({ method: "GET", url: "/job/jobs.event.*", headers: auth() });
    await app.inject({ method: "GET", url: `/job/${newJobId().toLowerCase()}`, headers: auth() });
    expect(looked).toEqual([]);
  });

  it("answers 503 with Retry-After when the store cannot be read", async () => {
    const { app, jobs } = await testApp();
    jobs.get = async () => {
      throw new StoreUnavailableError("timeout talking to NATS");
    };
    const res = await app.inject({ method: "GET", url: `/job/${newJobId()}`, headers: auth() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(problemOf(res).detail).not.toContain("NATS");
  });

  it("hides the text of unexpected errors behind a 500 problem", async () => {
    const { app, jobs } = await testApp();
    jobs.get = async () => {
      throw new Error("secret internal detail");
    };
    const res = await app.inject({ method: "GET", url: `/job/${newJobId()}`, headers: auth() });
    expect(res.statusCode).toBe(500);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/internal");
    expect(res.body).not.toContain("secret");
  });
});
