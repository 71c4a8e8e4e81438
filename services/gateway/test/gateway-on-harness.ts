import type { JobEvent, JobTypeDescriptor } from "@jobs/core";
import { announceJobTypes, openTypesBucket } from "@jobs/nats";
import { startHarness, type Harness } from "../../projector/test/harness.ts";
import { buildApp, type App } from "../src/app.ts";
import { natsAppDeps } from "../src/nats-deps.ts";

/**
 * The gateway wired as main.ts wires it (natsAppDeps), on the projector's test harness:
 * a real nats-server under a fresh prefix, an event publisher, and the real projector
 * when a test starts it. Two applications: "alpha" (token `tok`) and "beta" (`tok-b`).
 */
export interface GatewayHarness {
  h: Harness;
  app: App;
  /** Appends a runner's event (JobStarted, JobProgress, ...) and returns its stream sequence. */
  append(event: JobEvent): Promise<number>;
  dispose(): Promise<void>;
}

export const SUM: JobTypeDescriptor = {
  name: "sum",
  description: "a + b",
  params: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
};
export const ALPHA = { authorization: "Bearer tok" };
export const BETA = { authorization: "Bearer tok-b" };

export async function gatewayOnHarness(label: string, opts: { watchHeartbeatMs?: number } = {}): Promise<GatewayHarness> {
  const h = await startHarness(label);
  const controller = new AbortController();
  await announceJobTypes(await openTypesBucket(h.nc, h.names), [SUM]);
  const deps = await natsAppDeps({ nc: h.nc, names: h.names, log: h.log, signal: controller.signal, idempotencyTtlMs: 60_000, readinessCacheMs: 0 });
  const app = buildApp({ ...deps, tokens: new Map([["tok", "alpha"], ["tok-b", "beta"]]) }, opts);
  await app.ready();
  let n = 0;
  return {
    h,
    app,
    async append(event) {
      await h.append(event, `${event.jobId}:${event.type}:${++n}`);
      return h.stored.get(event.jobId)!.find((s) => s.event === event)!.seq;
    },
    async dispose() {
      controller.abort();
      await app.close();
      await h.dispose();
    },
  };
}

export const at = () => new Date().toISOString();
