import { newJobId, type JobEvent } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/ports.ts";
import type { FakeJobStore } from "./fakes.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

const cancel = (id: string, extra: { payload?: unknown; headers?: Record<string, string> } = {}) => ({
  method: "POST" as const,
  url: `/job/${id}/cancel`,
  headers: { ...auth(), ...extra.headers },
  ...(extra.payload === undefined ? {} : { payload: extra.payload as string }),
});
const now = () => new Date().toISOString();
const started = (jobId: string, attempt = 1): JobEvent => ({ type: "JobStarted", jobId, time: now(), data: { attempt, runner: "r1" } });

/** A queued job of "alpha" and, when `running`, its first attempt started. */
async function seed(jobs: FakeJobStore, { running = false } = {}) {
  const view = await jobs.seedJob("alpha", newJobId());
  if (running) await jobs.seedEvent(started(view.id));
  return view.id;
}

describe("POST /job/:id/cancel", () => {
  it("cancels a queued job: 202 with the cancelled job, one JobFinished stored", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs);
    const res = await app.inject(cancel(id));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      id,
      status: "cancelled",
      attempts: 0,
      error: { code: "cancelled", message: "Cancelled on request" },
      finishedAt: expect.any(String),
    });
    expect(jobs.later).toEqual([
      { type: "JobFinished", jobId: id, time: res.json().finishedAt, data: { attempt: 0, outcome: "cancelled", error: res.json().error } },
    ]);
    expect(jobs.msgIds.at(-1)).toBe(`${id}:cancel`);
    expect((await app.inject({ method: "GET", url: `/job/${id}`, headers: auth() })).json()).toEqual(res.json());
  });

  it("cancels a running job, naming the attempt it stops", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs, { running: true });
    const res = await app.inject(cancel(id));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: "cancelled", attempts: 1, startedAt: expect.any(String) });
    expect(jobs.later.map((e) => e.type)).toEqual(["JobStarted", "JobFinished"]);
  });

  it.each([
    ["no body", {}],
    ["an empty body with a JSON Content-Type", { payload: "", headers: { "content-type": "application/json" } }],
    ["an empty object", { payload: {} }],
  ])("takes %s", async (_, extra) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(cancel(await seed(jobs), extra));
    expect(res.statusCode).toBe(202);
  });

  it("keeps the reason as the error's message", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject(cancel(await seed(jobs), { payload: { reason: "no longer needed" } }));
    expect(res.json().error).toEqual({ code: "cancelled", message: "no longer needed" });
  });

  it("answers 409 for a job that has already ended, and stores nothing", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs);
    expect((await app.inject(cancel(id))).statusCode).toBe(202);
    const before = jobs.events.length;
    const res = await app.inject(cancel(id));
    expect(res.statusCode).toBe(409);
    expect(problemOf(res)).toMatchObject({ type: "/problems/job-already-ended", detail: expect.stringContaining("cancelled") });
    expect(jobs.events).toHaveLength(before);
  });

  it("answers an unknown, a malformed and another application's job with GET's 404, storing nothing", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs);
    for (const [target, token] of [[id, OTHER_TOKEN], [newJobId(), undefined], ["not-a-job", undefined]] as const) {
      const res = await app.inject({ ...cancel(target), headers: auth(token) });
      const { detail, ...rest } = problemOf(res);
      expect(rest).toEqual({ type: "/problems/job-not-found", title: "Job not found", status: 404 });
      expect(detail).toBe(`No job ${target}`);
    }
    expect(jobs.later).toEqual([]);
  });

  // An ending the store cannot confirm may have been stored or not: the answer says so and is the same 503.
  it.each([
    ["was not stored", "dropped", []],
    ["was stored all the same", "stored", ["JobFinished"]],
  ] as const)("answers 503 with Retry-After when the event log does not confirm (the cancel %s)", async (_, fate, later) => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs);
    jobs.failAppends = fate;
    const unconfirmed = await app.inject(cancel(id));
    expect(unconfirmed.statusCode).toBe(503);
    expect(unconfirmed.headers["retry-after"]).toBe("2");
    expect(problemOf(unconfirmed)).toMatchObject({ type: "/problems/change-not-stored", detail: expect.stringContaining("GET the job") });
    expect(jobs.later.map((e) => e.type)).toEqual(later);
  });

  it("answers 503 with Retry-After when the event log cannot be read, storing nothing", async () => {
    const { app, jobs } = await testApp();
    const id = await seed(jobs);
    jobs.readForUpdate = async () => {
      throw new StoreUnavailableError("timeout talking to NATS");
    };
    const unreadable = await app.inject(cancel(id));
    expect(unreadable.statusCode).toBe(503);
    expect(problemOf(unreadable).type).toBe("/problems/store-unavailable");
    expect(jobs.later).toEqual([]);
  });

  it.each([
    ["an unknown field", { payload: { reason: "x", force: true } }, 400, "/body/force"],
    ["a reason that is not a string", { payload: { reason: 5 } }, 400, "/body/reason"],
    ["an empty reason", { payload: { reason: "" } }, 400, "/body/reason"],
    ["malformed JSON", { payload: "{", headers: { "content-type": "application/json" } }, 400, undefined],
    ["a body that is not JSON", { payload: "please", headers: { "content-type": "text/plain" } }, 415, undefined],
    ["a body over the limit", { payload: { reason: "x".repeat(600_000) } }, 413, undefined],
  ])("refuses %s, storing nothing", async (_, extra, status, path) => {
    const { app, jobs } = await testApp();
    const res = await app.inject(cancel(await seed(jobs), extra));
    expect(res.statusCode).toBe(status);
    const problem = problemOf(res);
    if (path !== undefined) expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    expect(jobs.later).toEqual([]);
  });

  it("needs a token", async () => {
    const { app, jobs } = await testApp();
    const res = await app.inject({ method: "POST", url: `/job/${await seed(jobs)}/cancel` });
    expect(res.statusCode).toBe(401);
    expect(jobs.later).toEqual([]);
  });
});
