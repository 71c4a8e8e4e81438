import { expect } from "vitest";
import { sleep } from "@jobs/service";
import type { apiClient, ApiResponse } from "./http.ts";
import { eventually } from "./eventually.ts";

type Api = ReturnType<typeof apiClient>;

/** One POST /job as the client saw it: an answer, or the connection failing under it. */
export type PostOutcome = { body: unknown; response: ApiResponse } | { body: unknown; error: Error };

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Sends `bodies` as POST /job, `concurrency` at a time, in order. `onAnswer` hears each
 * outcome as it arrives (a test uses it to fault the system mid-burst). Never throws:
 * a connection error is an outcome too.
 */
export async function postJobs(
  api: Api,
  bodies: readonly unknown[],
  opts: { concurrency: number; onOutcome?: (o: PostOutcome, done: number) => void; pauseMs?: number },
): Promise<PostOutcome[]> {
  const outcomes: PostOutcome[] = new Array(bodies.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const body = bodies[i];
      try {
        outcomes[i] = { body, response: await api.post("/job", body) };
      } catch (err) {
        outcomes[i] = { body, error: err as Error };
      }
      opts.onOutcome?.(outcomes[i]!, ++done);
      // Paces a long run (the soak): traffic keeps flowing while faults happen.
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return outcomes;
}

/** The ids of the jobs that got a 202 (each checked to be a complete job). */
export function acceptedIds(outcomes: readonly PostOutcome[]): string[] {
  return outcomes.flatMap((o) => {
    if (!("response" in o) || o.response.status !== 202) return [];
    const job = o.response.body as { id?: unknown; status?: unknown };
    expect(typeof job.id, JSON.stringify(job)).toBe("string");
    expect(o.response.headers.get("location")).toBe(`/job/${job.id}`);
    return [job.id as string];
  });
}

/**
 * Waits until GET /job/{id} answers a final status for every id, and returns the jobs.
 * Only jobs not yet seen final are polled again, so a thousand jobs cost little once
 * most have ended.
 */
export async function waitForFinal(
  api: Api,
  ids: readonly string[],
  opts: { timeoutMs: number; logs: () => string; concurrency?: number },
): Promise<Map<string, any>> {
  const final = new Map<string, any>();
  const last = new Map<string, string>();
  const deadline = Date.now() + opts.timeoutMs;
  await eventually(
    async () => {
      const pending = ids.filter((id) => !final.has(id));
      let i = 0;
      const worker = async () => {
        while (i < pending.length && Date.now() < deadline) {
          const id = pending[i++]!;
          const res = await api.get(`/job/${id}`).catch((err: Error) => ({ status: 0, body: { status: `error: ${err.message}` } }));
          last.set(id, `${res.status} ${res.body?.status}`);
          if (res.status === 200 && FINAL.has(res.body.status)) final.set(id, res.body);
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
      const still = ids.filter((id) => !final.has(id));
      if (still.length > 0) {
        const sample = still.slice(0, 10).map((id) => `${id}: ${last.get(id)}`).join("\n");
        throw new Error(`${still.length} of ${ids.length} jobs not final, e.g.\n${sample}`);
      }
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${opts.logs()}`);
  });
  return final;
}
