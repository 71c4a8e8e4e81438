import { newJobId, type JobEvent } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../src/ports.ts";
import { auth, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

describe("GET /job/:id/events", () => {
  it("lists every event of the job in stream order, each {seq, type, time, data}", async () => {
    const { app, jobs } = await testApp();
    const id = newJobId();
    const other = newJobId();
    await jobs.seedJob("alpha", id);
    await jobs.seedJob("alpha", other); // interleaved events of another job stay out
    const later: JobEvent[] = [
      { type: "JobStarted", jobId: id, time: at(1), data: { attempt: 1, runner: "r1" } },
      { type: "JobStarted", jobId: other, time: at(1), data: { attempt: 1, runner: "r1" } },
      { type: "JobAttemptFailed", jobId: id, time: at(2), data: { attempt: 1, error: { code: "error", message: "boom" }, retryAt: at(3) } },
      { type: "JobStarted", jobId: id, time: at(3), data: { attempt: 2, runner: "r2" } },
      { type: "JobProgress", jobId: id, time: at(4), data: { attempt: 2, percent: 50, message: "half" } },
      { type: "JobFinished", jobId: id, time: at(5), data: { attempt: 2, outcome: "succeeded", result: { value: -0.5 } } },
    ];
    for (const e of later) await jobs.seedEvent(e);

    const res = await app.inject({ method: "GET", url: `/job/${id}/events`, headers: auth() });
    expect(res.statusCode).toBe(200);
    const { items } = res.json() as { items: { seq: number; type: string; time: string; data: unknown }[] };
    const expected = jobs.events.filter((e) => e.event.jobId === id);
    expect(items).toEqual(expected.map(({ seq, event }) => ({ seq, type: event.type, time: event.time, data: event.data })));
    expect(items.map((i) => i.type)).toEqual(["JobRequested", "JobStarted", "JobAttemptFailed", "JobStarted", "JobProgress", "JobFinished"]);
    expect(items.map((i) => i.seq)).toEqual([...items.map((i) => i.seq)].sort((a, b) => a - b));
    expect(items[0]!.data).toMatchObject({ app: "alpha", jobType: "sum", params: { a: 1.5, b: -2 } });
  });

  it("answers another application's job, an unknown id and a malformed id with the same 404", async () => {
    const { app, jobs } = await testApp();
    const foreign = await jobs.seedJob("alpha", newJobId());
    const looked: string[] = [];
    const history = jobs.history.bind(jobs);
    jobs.history = async (id) => (looked.push(id), history(id));
    const bodies = [];
    for (const id of [foreign.id, newJobId(), "not-a-job-id", "jobs.event.*"]) {
      const res = await app.inject({ method: "GET", url: `/job/${id}/events`, headers: auth(OTHER_TOKEN) });
      expect(res.statusCode).toBe(404);
      const { detail, ...rest } = problemOf(res);
      expect(detail).toBe(`No job ${id}`);
      bodies.push(rest);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ type: "/problems/job-not-found", title: "Job not found", status: 404 });
    expect(looked).toEqual([foreign.id, expect.any(String)]); // malformed ids are never looked up
  });

  it("needs a token", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    const res = await app.inject({ method: "GET", url: `/job/${view.id}/events` });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="jobs"');
  });

  it("answers 503 with Retry-After when the log cannot be read", async () => {
    const { app, jobs } = await testApp();
    jobs.history = async () => {
      throw new StoreUnavailableError("timeout talking to NATS");
    };
    const res = await app.inject({ method: "GET", url: `/job/${newJobId()}/events`, headers: auth() });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(problemOf(res).type).toBe("/problems/store-unavailable");
  });
});
