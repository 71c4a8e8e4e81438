// What holds nats-server's memory per stored job: `node bench/nats-memory.ts [jobs] [dir]`
// (default 200000 jobs, profiles into a temporary directory). Starts the pinned nats-server
// with its profiling port open (sync_interval 1s: the layout, not the fsyncs, is measured
// here), our services on it, sends the jobs by POST /job/batch in three steps (a quarter,
// a quarter, a half), and after each step, then after a restart on the same store (15 s
// and 75 s later), writes a heap profile (`/debug/pprof/heap?gc=1`, after a collection)
// and prints nats-server's RSS, Go's heap figures, each stream's subjects, and, when Go is
// installed (`go tool pprof`), how much of the heap each structure holds. bench/README.md
// ("What holds nats-server's memory") has what it printed and what it means.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jobNames } from "@jobs/core";
import { connectNats, jetstreamManager, type NatsConnection } from "@jobs/nats";
import { sleep } from "@jobs/service";
import { ensureTool, NATS_SERVER } from "../scripts/lib/nats-tools.ts";
import { freePort } from "../test/support/nats-server.ts";
import { startStack } from "../test/support/services.ts";
import { waitUntil } from "./lib/clock.ts";
import { HttpClient } from "./lib/http-client.ts";
import { MB } from "./lib/memory.ts";
import { rssBytes } from "./lib/proc-stats.ts";
import { submitBatches } from "./lib/submit.ts";

const JOBS = Number(process.argv[2] ?? 200_000);
const OUT = process.argv[3] ?? mkdtempSync(join(tmpdir(), "nats-memory-"));
/** Heap of each structure: a regular expression on the allocation's stack (pprof -focus). */
const STRUCTURES: Array<[string, string]> = [
  ["subject index of each stream (psim: subject -> count, first and last block)", "server.total uint64"],
  ["subject state of each loaded message block (fss, dropped 2 min after last use)", "Msgs uint64"],
  ["message IDs of the duplicate window (2 min)", "storeMsgIdLocked|getMsgId"],
  ["message block buffers (cache, dropped 10 s after last use)", "getMsgBlockBuf"],
];
const QUIET = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Parameters<typeof connectNats>[0]["log"];

mkdirSync(OUT, { recursive: true });
const bin = ensureTool(NATS_SERVER);
const [port, profPort] = [await freePort(), await freePort()];
const dir = mkdtempSync(join(tmpdir(), "nats-memory-store-"));
const conf = join(dir, "server.conf");
writeFileSync(conf, [`listen: 127.0.0.1:${port}`, `prof_port: ${profPort}`, `jetstream { store_dir: "${join(dir, "js")}", sync_interval: 1s }`].join("\n"));
const url = `nats://127.0.0.1:${port}`;
const names = jobNames("bench");
let server: ChildProcess = spawn(bin, ["-c", conf], { stdio: "ignore" });
let nc: NatsConnection | undefined;
const stack = await (async () => {
  await waitForServer();
  return startStack({ natsUrl: url, prefix: names.prefix, runners: 1, env: { LOG_LEVEL: "warn", RUNNER_CONCURRENCY: "8" } });
})();
try {
  nc = await connectNats({ servers: url, name: "nats-memory", log: QUIET });
  await snapshot("0 jobs");
  const client = new HttpClient(stack.baseUrl, stack.token, 2);
  let done = 0;
  for (const step of [JOBS / 4, JOBS / 4, JOBS / 2].map(Math.round)) {
    await submitBatches(client, step, 1000, 2, () => {});
    await waitIdle();
    done += step;
    await snapshot(`${done} jobs`);
  }
  client.close();
  await nc.close();
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  server = spawn(bin, ["-c", conf], { stdio: "ignore" });
  await waitForServer();
  nc = await connectNats({ servers: url, name: "nats-memory", log: QUIET });
  await sleep(15_000);
  await snapshot(`${done} jobs, restarted 15 s ago`);
  await sleep(60_000);
  await snapshot(`${done} jobs, restarted 75 s ago`);
} finally {
  await nc?.close().catch(() => undefined);
  await stack.stop();
  server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  console.log(`profiles in ${OUT}`);
}

async function waitForServer(): Promise<void> {
  await waitUntil(
    () =>
      fetch(`http://127.0.0.1:${profPort}/debug/pprof/`).then(
        (r) => r.ok,
        () => false,
      ),
    30_000,
    () => "nats-server did not start",
    100,
  );
  await sleep(1000);
}

async function waitIdle(): Promise<void> {
  const jsm = await jetstreamManager(nc!);
  await waitUntil(
    async () => {
      const [r, p] = await Promise.all([jsm.consumers.info(names.stream, names.runnerConsumer), jsm.consumers.info(names.stream, names.projectorConsumer)]);
      return r.num_pending + r.num_ack_pending + p.num_pending + p.num_ack_pending === 0;
    },
    3_600_000,
    () => "the runners and the projector never caught up",
    500,
  );
}

async function snapshot(label: string): Promise<void> {
  const file = join(OUT, `${label.replace(/[^a-z0-9]+/gi, "-")}.pprof`);
  writeFileSync(file, Buffer.from(await (await fetch(`http://127.0.0.1:${profPort}/debug/pprof/heap?gc=1`)).arrayBuffer()));
  const text = await (await fetch(`http://127.0.0.1:${profPort}/debug/pprof/heap?debug=1`)).text();
  const stat = (k: string) => Number(new RegExp(`# ${k} = (\\d+)`).exec(text)?.[1] ?? Number.NaN) / MB;
  const streams: string[] = [];
  for await (const s of (await jetstreamManager(nc!)).streams.list()) if (s.state.messages > 0) streams.push(`${s.config.name} ${s.state.messages} messages, ${s.state.num_subjects} subjects`);
  console.log(`${label}: RSS ${(rssBytes(server.pid!) / MB).toFixed(0)} MB; Go heap in use ${stat("HeapInuse").toFixed(0)} MB, allocated ${stat("HeapAlloc").toFixed(0)} MB; ${streams.join("; ")}`);
  for (const [what, focus] of STRUCTURES) {
    const out = spawnSync("go", ["tool", "pprof", "-top", "-sample_index=inuse_space", `-focus=${focus}`, bin, file], { encoding: "utf8" });
    const held = /accounting for ([^,]+),/.exec(out.stdout ?? "")?.[1];
    if (held) console.log(`  ${held.padStart(9)}  ${what}`);
  }
}
