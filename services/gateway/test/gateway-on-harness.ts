import { jobNames, type JobEvent, type JobNames, type JobTypeDescriptor } from "@jobs/core";
import { announceJobTypes, connectNats, openTypesBucket, type NatsConnection } from "@jobs/nats";
import type { Logger } from "@jobs/service";
import { pino } from "pino";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { startHarness, type Harness } from "../../projector/test/harness.ts";
import { buildApp, type App, type AppDeps, type AppOptions } from "../src/app.ts";
import { natsAppDeps } from "../src/nats/deps.ts";

/**
 * The gateway wired as main.ts wires it (natsAppDeps) on a real nats-server, three ways:
 * - gatewayOnNats: a server of the test file's own, a connection and a fresh prefix, no projector, no runner;
 * - gatewayOn: on a connection and names set up elsewhere (several gateways on one server);
 * - gatewayOnHarness: on the projector's test harness (an event publisher, the real projector on demand).
 */

export const SUM: JobTypeDescriptor = {
  name: "sum",
  description: "a + b",
  params: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
};
export const ALPHA = { authorization: "Bearer tok" };
export const BETA = { authorization: "Bearer tok-b" };

const silent = pino({ level: "silent" });

/** A nats-server of the test file's own, a connection to it and names under a fresh prefix. */
export interface NatsOnTest {
  server: NatsServerHandle;
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  /** Closes the connection and disposes the server (stopping it, deleting its store). */
  close(): Promise<void>;
}

export async function natsOnTest(label = "gw"): Promise<NatsOnTest> {
  const server = await startNatsServer();
  const nc = await orUndo(() => connectNats({ servers: server.url, name: "gateway-test", log: silent }), () => server.dispose());
  return {
    server,
    nc,
    names: jobNames(testPrefix(label)),
    log: silent,
    async close() {
      await nc.close();
      await server.dispose();
    },
  };
}

export interface GatewayOptions {
  /** Announced in the types bucket before the app is built (default: SUM). */
  types?: JobTypeDescriptor[];
  /** token -> application (default: `tok` is "alpha"). */
  tokens?: ReadonlyMap<string, string>;
  /** How long an Idempotency-Key is remembered (default 60 s). */
  idempotencyTtlMs?: number;
  /** natsAppDeps' publish ack timeout (its own default when absent). */
  appendTimeoutMs?: number;
  /** natsAppDeps' /readyz cache (its own default when absent). */
  readinessCacheMs?: number;
  app?: AppOptions;
  /** Runs once the types are announced, before natsAppDeps: streams, consumers, events stored before the gateway starts. */
  beforeApp?: () => Promise<void> | void;
}

/** A gateway app and the ports it was built with; close() stops following NATS and closes the app. */
export interface Gateway {
  deps: Omit<AppDeps, "tokens">;
  app: App;
  close(): Promise<void>;
}

/** The gateway on a connection and names set up elsewhere; ready when returned. */
export async function gatewayOn(on: { nc: NatsConnection; names: JobNames; log: Logger }, opts: GatewayOptions = {}): Promise<Gateway> {
  const { nc, names, log } = on;
  const controller = new AbortController();
  const deps = await orUndo(
    async () => {
      await announceJobTypes(await openTypesBucket(nc, names), opts.types ?? [SUM]);
      await opts.beforeApp?.();
      return natsAppDeps({
        nc,
        names,
        log,
        signal: controller.signal,
        idempotencyTtlMs: opts.idempotencyTtlMs ?? 60_000,
        appendTimeoutMs: opts.appendTimeoutMs,
        readinessCacheMs: opts.readinessCacheMs,
      });
    },
    async () => controller.abort(),
  );
  const app = buildApp({ ...deps, tokens: opts.tokens ?? new Map([["tok", "alpha"]]) }, opts.app);
  const close = async () => {
    controller.abort();
    await app.close();
  };
  await orUndo(async () => {
    await app.ready();
  }, close);
  return { deps, app, close };
}

/** The gateway on a nats-server of its own: see NatsOnTest and Gateway. close() closes the app, the connection, the server. */
export interface GatewayOnNats extends NatsOnTest, Gateway {
  close(): Promise<void>;
}

export async function gatewayOnNats(
  opts: Omit<GatewayOptions, "beforeApp"> & {
    /** Prefix label of the names (default "gw"). */
    label?: string;
    /** As GatewayOptions.beforeApp, given the server, connection and names. */
    beforeApp?: (nats: NatsOnTest) => Promise<void> | void;
  } = {},
): Promise<GatewayOnNats> {
  const nats = await natsOnTest(opts.label);
  const { beforeApp } = opts;
  const gateway = await orUndo(() => gatewayOn(nats, { ...opts, beforeApp: beforeApp && (() => beforeApp(nats)) }), () => nats.close());
  return {
    ...nats,
    ...gateway,
    async close() {
      await gateway.close();
      await nats.close();
    },
  };
}

/** The gateway on the projector's test harness. Two applications: "alpha" (token `tok`) and "beta" (`tok-b`). */
export interface GatewayHarness {
  h: Harness;
  app: App;
  /** Appends a runner's event (JobStarted, JobProgress, ...) and returns its stream sequence. */
  append(event: JobEvent): Promise<number>;
  dispose(): Promise<void>;
}

export async function gatewayOnHarness(label: string, opts: { watchHeartbeatMs?: number } = {}): Promise<GatewayHarness> {
  const h = await startHarness(label);
  const tokens = new Map([["tok", "alpha"], ["tok-b", "beta"]]);
  const gateway = await orUndo(() => gatewayOn(h, { tokens, readinessCacheMs: 0, app: opts }), () => h.dispose());
  let n = 0;
  return {
    h,
    app: gateway.app,
    async append(event) {
      await h.append(event, `${event.jobId}:${event.type}:${++n}`);
      return h.stored.get(event.jobId)!.find((s) => s.event === event)!.seq;
    },
    async dispose() {
      await gateway.close();
      await h.dispose();
    },
  };
}

export const at = () => new Date().toISOString();

/** `build()`; when it throws, `undo()` first: a fixture that fails half-way leaves no server, connection or app behind. */
async function orUndo<T>(build: () => Promise<T>, undo: () => Promise<unknown>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    await undo();
    throw err;
  }
}
