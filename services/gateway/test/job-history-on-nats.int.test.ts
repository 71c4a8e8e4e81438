import { newJobId, type JobEvent, type JobRequested } from "@jobs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALPHA, at, BETA, gatewayOnHarness, type GatewayHarness } from "./gateway-on-harness.ts";

type Item = { seq: number; type: string; time: string; data: Record<string, unknown> };

/** GET /job/:id/events against a real nats-server, with no projector: the history comes from the stream itself. */
describe("job history on NATS", () => {
  let g: GatewayHarness;
  beforeAll(async () => {
    g = await gatewayOnHarness("hist");
  });
  afterAll(async () => {
    await g?.dispose();
  });

  const history = async (id: string, headers = ALPHA) => g.app.inject({ method: "GET", url: `/job/${id}/events`, headers });

  it("lists the request, every attempt with its progress and failure, and the finish, in stream order", async () => {
    const created = await g.app.inject({ method: "POST", url: "/job", headers: ALPHA, payload: { type: "sum", params: { a: 2, b: 3 }, meta: { who: "t" } } });
    expect(created.statusCode).toBe(202);
    const id = created.json().id as string;
    const other = newJobId();
    const life: JobEvent[] = [
      { type: "JobStarted", jobId: id, time: at(), data: { attempt: 1, runner: "r1" } },
      { type: "JobProgress", jobId: id, time: at(), data: { attempt: 1, percent: 10 } },
      { type: "JobStarted", jobId: other, time: at(), data: { attempt: 1, runner: "r1" } }, // another job's, interleaved
      { type: "JobProgress", jobId: id, time: at(), data: { attempt: 1, percent: 60, message: "most" } },
      { type: "JobAttemptFailed", jobId: id, time: at(), data: { attempt: 1, error: { code: "error", message: "boom" }, retryAt: at() } },
      { type: "JobStarted", jobId: id, time: at(), data: { attempt: 2, runner: "r2" } },
      { type: "JobProgress", jobId: id, time: at(), data: { attempt: 2, percent: 50 } },
      { type: "JobFinished", jobId: id, time: at(), data: { attempt: 2, outcome: "succeeded", result: { value: 5 } } },
    ];
    const seqs = new Map<JobEvent, number>();
    for (const e of life) seqs.set(e, await g.append(e));

    const res = await history(id);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Item[];
    const own = life.filter((e) => e.jobId === id);
    expect(items.slice(1)).toEqual(own.map((e) => ({ seq: seqs.get(e), type: e.type, time: e.time, data: e.data })));
    const requested = items[0]!;
    expect(requested).toMatchObject({ type: "JobRequested", time: created.json().createdAt });
    expect(requested.data).toEqual({ app: "alpha", jobType: "sum", params: { a: 2, b: 3 }, meta: { who: "t" }, maxAttempts: expect.any(Number), timeoutMs: expect.any(Number), runAt: null } satisfies Record<keyof JobRequested["data"], unknown>);
    expect(requested.seq).toBeLessThan(items[1]!.seq);
  });

  it("reads a long history whole (more events than one fetch brings)", async () => {
    const id = newJobId();
    const requested: JobEvent = {
      type: "JobRequested",
      jobId: id,
      time: at(),
      data: { app: "alpha", jobType: "sum", params: { a: 1, b: 1 }, meta: {}, maxAttempts: 1, timeoutMs: 1000, runAt: null },
    };
    await g.append(requested);
    await g.append({ type: "JobStarted", jobId: id, time: at(), data: { attempt: 1, runner: "r" } });
    const progress = Array.from({ length: 2500 }, (_, i): JobEvent => ({ type: "JobProgress", jobId: id, time: at(), data: { attempt: 1, percent: (i * 100) / 2500 } }));
    for (let i = 0; i < progress.length; i += 250) await Promise.all(progress.slice(i, i + 250).map((e) => g.h.append(e)));

    const items = (await history(id)).json().items as Item[];
    expect(items).toHaveLength(2502);
    expect(items.map((i) => i.seq)).toEqual(g.h.stored.get(id)!.map((s) => s.seq));
  });

  it("answers 404 for another application's job and an unknown one", async () => {
    const created = await g.app.inject({ method: "POST", url: "/job", headers: ALPHA, payload: { type: "sum", params: { a: 0, b: 0 } } });
    const id = created.json().id as string;
    expect((await history(id)).statusCode).toBe(200);
    expect((await history(id, BETA)).statusCode).toBe(404);
    expect((await history(newJobId())).statusCode).toBe(404);
  });
});
