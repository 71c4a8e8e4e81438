import { newJobId, type Job, type JobEvent } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import type { App } from "../src/app.ts";
import { auth, OTHER_TOKEN, problemOf, testApp, TOKEN } from "./helper.ts";
import { openSse, parseSse, type SseMessage } from "./sse-client.ts";

const now = () => new Date().toISOString();
const started = (jobId: string, attempt = 1): JobEvent => ({ type: "JobStarted", jobId, time: now(), data: { attempt, runner: "r" } });
const progress = (jobId: string, percent: number): JobEvent => ({ type: "JobProgress", jobId, time: now(), data: { attempt: 1, percent } });
const finished = (jobId: string): JobEvent => ({ type: "JobFinished", jobId, time: now(), data: { attempt: 1, outcome: "succeeded", result: { value: 3 } } });

const jobsOf = (messages: SseMessage[]) => messages.filter((m) => m.event === "job").map((m) => JSON.parse(m.data!) as Job);

async function listening(app: App): Promise<string> {
  return app.listen({ host: "127.0.0.1", port: 0 });
}

describe("GET /job/:id/watch", () => {
  it("sends the view now, then each change it hears of, then closes after the final status", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const sse = await openSse(`${base}/job/${view.id}/watch`, auth());
    expect(sse.status).toBe(200);
    expect(sse.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(sse.headers["cache-control"]).toBe("no-cache");
    expect(sse.headers["x-accel-buffering"]).toBe("no");
    await eventually(() => expect(jobsOf(sse.messages)).toHaveLength(1));
    await eventually(() => expect(jobs.watchers).toBe(1));

    // One change at a time, each heard before the next: a watch that delivers only the latest view delivers each.
    const seqs = [view.seq];
    seqs.push(await jobs.seedEvent(started(view.id)));
    await eventually(() => expect(jobsOf(sse.messages)).toHaveLength(2));
    seqs.push(await jobs.seedEvent(progress(view.id, 40)));
    await eventually(() => expect(jobsOf(sse.messages)).toHaveLength(3));
    seqs.push(await jobs.seedEvent(finished(view.id)));
    await sse.ended;

    expect(sse.messages.map((m) => m.id)).toEqual(seqs.map(String));
    expect(sse.messages.every((m) => m.event === "job")).toBe(true);
    const seen = jobsOf(sse.messages);
    expect(seen.map((j) => j.status)).toEqual(["queued", "running", "running", "succeeded"]);
    expect(seen[2]!.progress).toEqual({ percent: 40 });
    // The last message is exactly what GET /job/:id answers.
    const got = await app.inject({ method: "GET", url: `/job/${view.id}`, headers: auth() });
    expect(seen[3]).toEqual(got.json());
    expect(jobs.watchers).toBe(0);
  });

  it("when changes come faster than the watch delivers them, sends newer views only, ending with the final one", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const sse = await openSse(`${base}/job/${view.id}/watch`, auth());
    await eventually(() => expect(jobs.watchers).toBe(1));
    const seqs = [view.seq];
    for (const event of [started(view.id), progress(view.id, 40), progress(view.id, 80), finished(view.id)]) seqs.push(await jobs.seedEvent(event));
    await sse.ended;

    const sent = sse.messages.map((m) => Number(m.id));
    expect(sent[0]).toBe(view.seq);
    expect(sent.at(-1)).toBe(seqs.at(-1));
    expect(sent.every((seq, i) => seqs.includes(seq) && (i === 0 || seq > sent[i - 1]!))).toBe(true);
    expect(jobsOf(sse.messages).at(-1)!.status).toBe("succeeded");
  });

  it("starts from the view the store answers, even one its projector has not updated yet, and follows the watch to the end", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    jobs.pauseProjector();
    await jobs.seedEvent(started(view.id));
    const sse = await openSse(`${base}/job/${view.id}/watch`, auth());
    await eventually(() => expect(jobsOf(sse.messages)).toHaveLength(1));
    expect(jobsOf(sse.messages)[0]!.status).toBe("queued");

    const last = await jobs.seedEvent(finished(view.id));
    jobs.resumeProjector();
    await sse.ended;
    expect(sse.messages.map((m) => m.id)).toEqual([String(view.seq), String(last)]);
    expect(jobsOf(sse.messages)[1]!.status).toBe("succeeded");
  });

  it("sends a job that has already ended once, then closes", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    await jobs.seedEvent(started(view.id));
    const last = await jobs.seedEvent(finished(view.id));
    const res = await app.inject({ method: "GET", url: `/job/${view.id}/watch`, headers: auth() });
    expect(res.statusCode).toBe(200);
    const messages = parseSse(res.body);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id: String(last), event: "job" });
    expect(jobsOf(messages)[0]!.status).toBe("succeeded");
    expect(jobs.watchers).toBe(0);
  });

  it("sends `: ping` comments while nothing changes", async () => {
    const { app, jobs } = await testApp({ watchHeartbeatMs: 30 });
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const sse = await openSse(`${base}/job/${view.id}/watch`, auth());
    await eventually(() => expect(sse.messages.filter((m) => m.comment === "ping").length).toBeGreaterThanOrEqual(2));
    expect(jobsOf(sse.messages)).toHaveLength(1);
    sse.close();
  });

  it("stops watching when the client goes away", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const clients = await Promise.all([1, 2, 3].map(() => openSse(`${base}/job/${view.id}/watch`, auth())));
    await eventually(() => expect(jobs.watchers).toBe(3));
    clients[0]!.close();
    clients[1]!.close();
    await eventually(() => expect(jobs.watchers).toBe(1));
    await jobs.seedEvent(started(view.id));
    await eventually(() => expect(jobsOf(clients[2]!.messages)).toHaveLength(2));
    clients[2]!.close();
    await eventually(() => expect(jobs.watchers).toBe(0));
  });

  it("ends open streams when the server closes, instead of waiting for their jobs", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const sse = await openSse(`${base}/job/${view.id}/watch`, auth());
    await eventually(() => expect(jobs.watchers).toBe(1));
    await app.close();
    await sse.ended;
    expect(jobs.watchers).toBe(0);
  });

  it("ends the stream when the watch fails, after what it had sent", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    jobs.watch = async function* () {
      throw new Error("watch broke");
    };
    const res = await app.inject({ method: "GET", url: `/job/${view.id}/watch`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(jobsOf(parseSse(res.body)).map((j) => j.status)).toEqual(["queued"]);
  });

  it("answers another application's job, an unknown and a malformed id with the same 404, before any stream", async () => {
    const { app, jobs } = await testApp();
    const foreign = await jobs.seedJob("alpha", newJobId());
    const bodies = [];
    for (const id of [foreign.id, newJobId(), "not-a-job-id"]) {
      const res = await app.inject({ method: "GET", url: `/job/${id}/watch`, headers: auth(OTHER_TOKEN) });
      expect(res.statusCode).toBe(404);
      const { detail, ...rest } = problemOf(res);
      bodies.push(rest);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ type: "/problems/job-not-found", title: "Job not found", status: 404 });
    expect(jobs.watchers).toBe(0);
    expect((await app.inject({ method: "GET", url: `/job/${foreign.id}/watch` })).statusCode).toBe(401);
  });

  it("resumes after Last-Event-ID, and answers 204 to a reconnect after the final view", async () => {
    const { app, jobs } = await testApp();
    const base = await listening(app);
    const view = await jobs.seedJob("alpha", newJobId());
    const startSeq = await jobs.seedEvent(started(view.id));
    const sse = await openSse(`${base}/job/${view.id}/watch`, { ...auth(), "last-event-id": String(startSeq) });
    await eventually(() => expect(jobs.watchers).toBe(1));
    const endSeq = await jobs.seedEvent(finished(view.id));
    await sse.ended;
    // Nothing new at first: a ping (it carries the headers out), then only the view the client lacked.
    expect(sse.messages).toEqual([{ comment: "ping" }, { id: String(endSeq), event: "job", data: expect.any(String) }]);

    const again = await app.inject({ method: "GET", url: `/job/${view.id}/watch`, headers: { ...auth(), "last-event-id": String(endSeq) } });
    expect(again.statusCode).toBe(204);
    expect(again.body).toBe("");
    const bad = await app.inject({ method: "GET", url: `/job/${view.id}/watch`, headers: { ...auth(), "last-event-id": "x1" } });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]?.path).toBe("/headers/last-event-id");
  });

  it("answers HEAD with the headers of the stream and no body, without watching", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    const res = await app.inject({ method: "HEAD", url: `/job/${view.id}/watch`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(res.body).toBe("");
    expect(jobs.watchers).toBe(0);
  });
});
