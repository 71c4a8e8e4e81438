import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, RetentionPolicy, type StreamConfig } from "@nats-io/jetstream";
import { jobNames } from "@jobs/core";
import { streamConfig } from "@jobs/nats";
import { sleep } from "@jobs/service";
import { freePort, startNatsServer, testPrefix, type NatsServerHandle } from "../support/nats-server.ts";
import { startService, type ServiceName, type ServiceProcess } from "../support/services.ts";

/**
 * The README's "The service refuses to start on a stream with other retention or with
 * delete allowed", through the real processes: the job stream exists already, made by
 * someone else with one unsafe setting (delete or purge allowed, work-queue or interest
 * retention, any of which can lose accepted jobs). Every service says which setting and
 * exits 1, and leaves the stream as it found it: no setting changed, no consumer
 * added, nothing stored.
 */
const UNSAFE: { what: string; config: Partial<StreamConfig>; says: string }[] = [
  { what: "delete allowed", config: { deny_delete: false }, says: "delete or purge is allowed" },
  { what: "purge allowed", config: { deny_purge: false }, says: "delete or purge is allowed" },
  { what: "work-queue retention", config: { retention: RetentionPolicy.Workqueue }, says: "retention is workqueue" },
  { what: "interest retention", config: { retention: RetentionPolicy.Interest }, says: "retention is interest" },
];
/** Long enough for a process to start, connect and look at the stream on a loaded machine. */
const EXIT_WITHIN_MS = 30_000;
const SERVICES: ServiceName[] = ["gateway", "runner", "projector"];

let nats: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

/** The exit code, or "still running" (then the process is killed) after `ms`. */
async function exitWithin(service: ServiceProcess, ms: number): Promise<number | null | "still running"> {
  const { child } = service;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const outcome = await Promise.race([exited, sleep(ms).then(() => "still running" as const)]);
  if (outcome === "still running") await service.stop("SIGKILL");
  return outcome;
}

describe.each(UNSAFE)("a job stream with $what", ({ config, says }) => {
  it("is refused by every service, which says why, exits 1, and leaves the stream as it was", async () => {
    const names = jobNames(testPrefix("unsafe"));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ ...streamConfig(names), ...config });
    const before = (await jsm.streams.info(names.stream)).config;

    const port = await freePort();
    const services = SERVICES.map((name) => startService(name, { NATS_URL: nats.url, JOBS_PREFIX: names.prefix, HOST: "127.0.0.1", PORT: String(port), API_TOKENS: "e2e:e2e-token" }));
    const codes = await Promise.all(services.map((s) => exitWithin(s, EXIT_WITHIN_MS)));
    const output = services.map((s) => `--- ${s.name} ---\n${s.output()}`).join("\n");
    expect(codes, output).toEqual([1, 1, 1]);
    for (const s of services) {
      expect(s.output(), s.name).toContain(`stream ${names.stream} exists with unsafe settings (${says}); refusing to run on it`);
    }

    const after = await jsm.streams.info(names.stream);
    expect(after.config).toEqual(before);
    expect(after.state.messages).toBe(0);
    expect(await jsm.consumers.list(names.stream).next()).toEqual([]);
  }, 60_000);
});
