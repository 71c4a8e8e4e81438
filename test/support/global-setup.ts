import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTool, NATS_CLI, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";
import { OWNER_ENV, OWNER_FILE } from "./child-guard.ts";

/**
 * Once per test run, before any worker starts: the pinned nats-server and nats CLI are
 * there (built with `go install` on a machine that lacks them), so no test file builds
 * one on its own. Before and after the run: what test processes that died without
 * cleaning up (a worker killed with SIGKILL, a crashed run) left behind is swept away.
 */
export default function setup(): () => void {
  sweepLeftovers();
  ensureTool(NATS_SERVER);
  ensureTool(NATS_CLI);
  return sweepLeftovers;
}

/** Where nats-server.ts makes the store folders of its servers. */
const STORE_PREFIX = "jobs-nats-";
/** A store folder without an owner file (made before they had one) is left this long to whoever may still use it. */
const UNOWNED_GRACE_MS = 60 * 60_000;

/**
 * Kills every process marked as the child of a test process that no longer runs (see
 * child-guard.ts), and removes the store folders such a process left. Linux only (it
 * reads /proc); elsewhere the in-process guard is all there is. Never touches what a
 * live test process (another run, the bench) still owns.
 */
export function sweepLeftovers(): void {
  if (!existsSync("/proc/self/environ")) return;
  const killed = killOrphans();
  const removed = removeStaleStores();
  if (killed.length + removed.length > 0) {
    console.warn(`test leftovers of dead test processes swept: ${killed.length} process(es) killed (${killed.join(", ")}), ${removed.length} folder(s) removed`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function pids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function readProc(pid: number, file: "environ" | "cmdline"): string[] {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0");
  } catch {
    return []; // gone meanwhile, or not ours to read
  }
}

function killOrphans(): number[] {
  const killed: number[] = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    const mark = readProc(pid, "environ").find((v) => v.startsWith(`${OWNER_ENV}=`));
    const owner = Number(mark?.slice(OWNER_ENV.length + 1));
    if (!Number.isInteger(owner) || owner <= 0 || owner === pid || isAlive(owner)) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

function removeStaleStores(): string[] {
  const dir = tmpdir();
  const stores = readdirSync(dir)
    .filter((name) => name.startsWith(STORE_PREFIX))
    .map((name) => join(dir, name))
    // A nats-server store: a config, a JetStream folder or an owner file (other jobs-nats-* folders are not ours to judge).
    .filter((path) => ["server.conf", "js", OWNER_FILE].some((f) => existsSync(join(path, f))));
  const inUse = new Set(pids().flatMap((pid) => readProc(pid, "cmdline")));
  const removed: string[] = [];
  for (const path of stores) {
    let stale: boolean;
    try {
      const owner = Number(readFileSync(join(path, OWNER_FILE), "utf8").trim());
      stale = Number.isInteger(owner) && owner > 0 && !isAlive(owner);
    } catch {
      // No owner file: stale once no process runs on its config and it is old enough.
      stale = !inUse.has(join(path, "server.conf")) && Date.now() - statSync(path).mtimeMs > UNOWNED_GRACE_MS;
    }
    if (!stale) continue;
    rmSync(path, { recursive: true, force: true, maxRetries: 3 });
    removed.push(path);
  }
  return removed;
}
