import type { Job, JobEvent } from "@jobs/core";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { ALPHA, at, BETA, gatewayOnHarness, type GatewayHarness } from "./gateway-on-harness.ts";
import { openSse, type SseConnection } from "./sse-client.ts";

/**
 * GET /job/:id/watch against a real nats-server and the real projector: the changes come
 * from a KV watch on the job's key in the view bucket.
 */
let g: GatewayHarness | undefined;
const clients: SseConnection[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await g?.dispose();
  g = undefined;
});

const jobsOf = (sse: SseConnection) => sse.messages.filter((m) => m.event === "job").map((m) => JSON.parse(m.data!) as Job);

async function setup(label: string, opts: { projector: boolean }) {
  g = await gatewayOnHarness(label);
  if (opts.projector) g.h.startProjector();
  const base = await g.app.listen({ host: "127.0.0.1", port: 0 });
  const created = await g.app.inject({ method: "POST", url: "/job", headers: ALPHA, payload: { type: "sum", params: { a: 1, b: 2 } } });
  expect(created.statusCode).toBe(202);
  const id = created.json().id as string;
  const watch = async (headers: Record<string, string> = ALPHA) => {
    const sse = await openSse(`${base}/job/${id}/watch`, headers);
    clients.push(sse);
    return sse;
  };
  return { g, id, watch };
}

/**
 * Live watches of the view bucket, as the server sees them: each is an ordered push
 * consumer on the bucket's stream, bound while a subscription receives it. (A stopped
 * watch unsubscribes at once; the server deletes the idle consumer itself after the
 * inactivity threshold nats.js gives it, 5 minutes.)
 */
/** Consumers on the view bucket, bound or not: a watch that ended must leave none behind on the server. */
async function bucketWatchers(g: GatewayHarness): Promise<number> {
  const consumers = await g.h.jsm.consumers.list(`KV_${g.h.names.viewBucket}`).next();
  return consumers.length;
}

const started = (jobId: string, attempt = 1): JobEvent => ({ type: "JobStarted", jobId, time: at(), data: { attempt, runner: "r" } });

describe("job watch on NATS", () => {
  it("streams a job from queued through running to succeeded, then closes", async () => {
    const { g, id, watch } = await setup("watch", { projector: true });
    const sse = await watch();
    expect(sse.status).toBe(200);
    expect(sse.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    await eventually(() => expect(jobsOf(sse)).toHaveLength(1));

    // One event at a time, each seen before the next: a watch delivers the latest view, not every one.
    const seqs = [Number(sse.messages[0]!.id)];
    seqs.push(await g.append(started(id)));
    await eventually(() => expect(jobsOf(sse)).toHaveLength(2));
    seqs.push(await g.append({ type: "JobProgress", jobId: id, time: at(), data: { attempt: 1, percent: 50, message: "half" } }));
    await eventually(() => expect(jobsOf(sse)).toHaveLength(3));
    seqs.push(await g.append({ type: "JobFinished", jobId: id, time: at(), data: { attempt: 1, outcome: "succeeded", result: { value: 3 } } }));
    await sse.ended;

    expect(sse.messages.map((m) => Number(m.id))).toEqual(seqs);
    const seen = jobsOf(sse);
    expect(seen.map((j) => j.status)).toEqual(["queued", "running", "running", "succeeded"]);
    expect(seen[2]!.progress).toEqual({ percent: 50, message: "half" });
    expect(seen[3]).toEqual((await g.app.inject({ method: "GET", url: `/job/${id}`, headers: ALPHA })).json());
    await eventually(async () => expect(await bucketWatchers(g)).toBe(0));
  });

  it("sends the job folded from the stream while the projector has not written it yet", async () => {
    const { g, id, watch } = await setup("miss", { projector: false });
    expect(await g.h.views.get(id)).toBeNull();
    const sse = await watch();
    await eventually(() => expect(jobsOf(sse).map((j) => j.status)).toEqual(["queued"]));
    await g.append(started(id));
    g.h.startProjector(); // the view appears in the bucket, already folded past the request
    await eventually(() => expect(jobsOf(sse).map((j) => j.status)).toEqual(["queued", "running"]));
  });

  it("leaves no watcher behind when clients go away mid-stream", async () => {
    const { g, id, watch } = await setup("gone", { projector: true });
    expect(await bucketWatchers(g)).toBe(0);
    const sses = await Promise.all([watch(), watch(), watch()]);
    await eventually(async () => expect(await bucketWatchers(g)).toBe(3));
    for (const sse of sses) await eventually(() => expect(jobsOf(sse)).toHaveLength(1));
    sses[0]!.close();
    sses[1]!.close();
    await eventually(async () => expect(await bucketWatchers(g)).toBe(1), { timeoutMs: 20_000 });
    await g.append(started(id));
    await eventually(() => expect(jobsOf(sses[2]!)).toHaveLength(2));
    sses[2]!.close();
    await eventually(async () => expect(await bucketWatchers(g)).toBe(0), { timeoutMs: 20_000 });
  });

  it("keeps watching across a nats-server restart", async () => {
    const { g, id, watch } = await setup("restart", { projector: true });
    const sse = await watch();
    await eventually(() => expect(jobsOf(sse)).toHaveLength(1));
    await g.h.server.stop();
    await g.h.server.restart();
    await eventually(async () => expect((await g.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200), { timeoutMs: 20_000 });
    await g.append(started(id));
    await eventually(() => expect(jobsOf(sse).map((j) => j.status)).toEqual(["queued", "running"]), { timeoutMs: 30_000 });
  });

  it("answers 404 to another application before any stream starts", async () => {
    const { g, watch } = await setup("other", { projector: true });
    const sse = await watch(BETA);
    expect(sse.status).toBe(404);
    await sse.ended;
    expect(await bucketWatchers(g)).toBe(0);
  });
});
