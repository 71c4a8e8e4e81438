import { newJobId, type JobEvent, type JobRequested } from "@jobs/core";
import { attemptFailed, progressed, requested, started, succeeded } from "@jobs/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALPHA, BETA, gatewayOnHarness, type GatewayHarness } from "./gateway-on-harness.ts";

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
      started(1, { jobId: id }),
      progressed(1, 10, { jobId: id }),
      started(1, { jobId: other }), // another job's, interleaved
      progressed(1, 60, { jobId: id, message: "most" }),
      attemptFailed(1, { jobId: id }),
      started(2, { jobId: id, runner: "r2" }),
      progressed(2, 50, { jobId: id }),
      succeeded(2, { value: 5 }, { jobId: id }),
    ];
    const seqs = new Map<JobEvent, number>();
    for (const e of life) seqs.set(e, await g.append(e));

    const res = await history(id);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Item[];
    const own = life.filter((e) => e.jobId === id);
    expect(items.slice(1)).toEqual(own.map((e) => ({ seq: seqs.get(e), type: e.type, time: e.time, data: e.data })));
    const request = items[0]!;
    expect(request).toMatchObject({ type: "JobRequested", time: created.json().createdAt });
    expect(request.data).toEqual({ app: "alpha", jobType: "sum", params: { a: 2, b: 3 }, meta: { who: "t" }, maxAttempts: expect.any(Number), timeoutMs: expect.any(Number), runAt: null, priority: "normal", startBy: null, scheduleId: null } satisfies Record<keyof JobRequested["data"], unknown>);
    expect(request.seq).toBeLessThan(items[1]!.seq);
  });

  it("reads a long history whole (more events than one fetch brings)", async () => {
    const id = newJobId();
    await g.append(requested({ jobId: id }));
    await g.append(started(1, { jobId: id }));
    const progress = Array.from({ length: 2500 }, (_, i) => progressed(1, (i * 100) / 2500, { jobId: id }));
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
