import { newJobId, type JobEvent } from "@jobs/core";
import { describe, expect, it } from "vitest";
import type { FakeJobStore } from "./fakes.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

const complete = (id: string, payload: unknown, token?: string) => ({
  method: "POST" as const,
  url: `/job/${id}/complete`,
  headers: auth(token),
  payload: payload as Record<string, unknown>,
});
const now = () => new Date().toISOString();
const event = (jobId: string, e: Pick<JobEvent, "type" | "data">) => ({ ...e, jobId, time: now() }) as JobEvent;

/** A job of "alpha" in the state a test needs, with a runner's events stored as a runner would. */
async function seed(jobs: FakeJobStore, jobType: string, state: "queued" | "running" | "succeeded") {
  const { id } = await jobs.seedJob("alpha", newJobId(), jobType);
  if (state !== "queued") await jobs.seedEvent(event(id, { type: "JobStarted", data: { attempt: 1, runner: "r1" } }));
  if (state === "succeeded") await jobs.seedEvent(event(id, { type: "JobFinished", data: { attempt: 1, outcome: "succeeded", result: 1 } }));
  return id;
}

describe("POST /job/:id/complete", () => {
  it("ends a running external job with its result: 200 succeeded, one JobFinished stored", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", "running");
    const result = { rows: [1, 2], note: null };
    const res = await app.inject(complete(id, { result }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: "succeeded", result, error: null, attempts: 1, finishedAt: expect.any(String) });
    expect(jobs.later.at(-1)).toEqual({
      type: "JobFinished",
      jobId: id,
      time: res.json().finishedAt,
      data: { attempt: 1, outcome: "succeeded", result },
    });
    expect(jobs.msgIds.at(-1)).toBe(`${id}:complete`);
    expect((await app.inject({ method: "GET", url: `/job/${id}`, headers: auth() })).json()).toEqual(res.json());
  });

  it("takes null as a result", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(complete(await seed(jobs, "external", "running"), { result: null }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "succeeded", result: null });
  });

  it.each([
    ["a message", "partner said no", { code: "external_error", message: "partner said no" }],
    ["a code and a message", { code: "quota", message: "over quota" }, { code: "quota", message: "over quota" }],
    ["a message object without code", { message: "lost" }, { code: "external_error", message: "lost" }],
  ])("ends it failed, with no retry, on an error given as %s", async (_, error, stored) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(complete(await seed(jobs, "external", "running"), { error }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "failed", error: stored, result: null, attempts: 1 });
    expect(jobs.later.at(-1)).toMatchObject({ type: "JobFinished", data: { outcome: "failed", error: stored } });
  });

  it.each([
    ["a queued external job", "external", "queued", "/problems/job-not-running", /is queued/],
    ["an ended external job", "external", "succeeded", "/problems/job-already-ended", /already ended \(succeeded\)/],
    ["a running job of another type", "sum", "running", "/problems/not-an-external-job", /only jobs of type "external" can be completed/],
  ] as const)("answers 409 for %s and stores nothing", async (_, jobType, state, type, detail) => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, jobType, state);
    const before = jobs.events.length;
    const res = await app.inject(complete(id, { result: 1 }));
    expect(res.statusCode).toBe(409);
    expect(problemOf(res)).toMatchObject({ type, detail: expect.stringMatching(detail) });
    expect(jobs.events).toHaveLength(before);
  });

  it("answers an unknown and another application's job with GET's 404", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", "running");
    const before = jobs.events.length;
    for (const [target, token] of [[id, OTHER_TOKEN], [newJobId(), undefined], ["nope", undefined]] as const) {
      const res = await app.inject(complete(target, { result: 1 }, token));
      expect(problemOf(res)).toMatchObject({ status: 404, type: "/problems/job-not-found", detail: `No job ${target}` });
    }
    expect(jobs.events).toHaveLength(before);
  });

  const deep = (depth: number): unknown => (depth === 0 ? 1 : [deep(depth - 1)]);
  it.each([
    ["both result and error", { result: 1, error: "x" }, ["/body/error"]],
    ["neither result nor error", {}, ["/body/result"]],
    ["an unknown field", { result: 1, status: "succeeded" }, ["/body/status"]],
    ["an error object with an unknown field", { error: { message: "m", retry: true } }, ["/body/error/retry"]],
    ["an error object without message", { error: { code: "c" } }, ["/body/error", "/body/error/message"]],
    ["an empty error message", { error: "" }, ["/body/error"]],
    ["a result nested too deep", { result: deep(40) }, ["/body/result"]],
  ])("answers 400 naming the field for %s, storing nothing", async (_, payload, paths) => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", "running");
    const before = jobs.events.length;
    const res = await app.inject(complete(id, payload));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/validation");
    for (const path of paths) expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(jobs.events).toHaveLength(before);
  });

  it("answers 400 for a missing body and 415 for a body that is not JSON", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, "external", "running");
    const missing = await app.inject({ method: "POST", url: `/job/${id}/complete`, headers: auth() });
    expect(problemOf(missing).errors).toEqual([{ path: "/body", message: "must be object" }]);
    const text = await app.inject({ method: "POST", url: `/job/${id}/complete`, headers: { ...auth(), "content-type": "text/plain" }, payload: "ok" });
    expect(text.statusCode).toBe(415);
    expect(jobs.later.map((e) => e.type)).toEqual(["JobStarted"]);
  });
});
