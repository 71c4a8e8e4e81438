import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import { ensureTool, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";
import { redisVersion } from "./redis-server.ts";

/** What the figures were measured on: they mean little without it. */
export function describeMachine(): string[] {
  const cpu = cpus();
  return [
    `machine: ${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `software: Node ${process.version}, nats-server ${natsServerVersion()}, redis-server ${redisVersion()}, bullmq ${bullmqVersion()}`,
    `load average at start: ${loadAverage()} (1, 5, 15 min; the cores are shared with whatever else runs)`,
  ];
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
}

function natsServerVersion(): string {
  try {
    const out = spawnSync(ensureTool(NATS_SERVER), ["--version"], { encoding: "utf8" });
    return /v?(\d+\.\d+\.\d+)/.exec(out.stdout ?? "")?.[1] ?? "unknown";
  } catch {
    return "not installed";
  }
}

function bullmqVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve("bullmq");
    const pkg = main.slice(0, main.lastIndexOf("/dist/")) + "/package.json";
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}
