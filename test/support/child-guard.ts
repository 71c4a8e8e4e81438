import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/**
 * Leak guard for what tests start: every guarded child is killed, and every guarded
 * folder removed, however the test process ends (a normal exit, an uncaught error,
 * SIGINT, SIGTERM, SIGHUP). A process killed with SIGKILL runs no handler at all: for
 * that, every child a test process starts carries OWNER_ENV (the pid of the test process
 * that owns it, inherited by the child's own children), and every store folder an owner
 * file, so that the sweep of global-setup.ts (before and after each run) can kill and
 * remove what a dead test process left behind.
 */
export const OWNER_ENV = "JOBS_TEST_OWNER_PID";
/** In a folder a test process made: the pid of that process. */
export const OWNER_FILE = "owner.pid";

/** What to run on the way out: a kill each. */
const killers = new Set<() => void>();
const folders = new Set<string>();
let installed = false;

/**
 * Installs the guard in this process (once) and marks its future children: from now on
 * every child inherits OWNER_ENV. A process that is itself a guarded child (the bench run
 * by a test) keeps its owner's pid, so the sweep finds its children too.
 */
export function installChildGuard(): void {
  if (installed) return;
  installed = true;
  process.env[OWNER_ENV] ??= String(process.pid);
  process.once("exit", cleanUp);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      cleanUp();
      // Then end as the signal would have, unless someone else also listens (and decides).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

/**
 * Kills `child` if it is still running when this process ends: SIGKILL, or `signal` for
 * a child that must stop its own children first.
 */
export function guardChild<T extends ChildProcess>(child: T, opts: { signal?: NodeJS.Signals } = {}): T {
  const unguard = guard(() => child.kill(opts.signal ?? "SIGKILL"));
  child.once("exit", unguard);
  return child;
}

/** Runs `kill` (synchronous) if this process ends before the returned function is called. */
export function guard(kill: () => void): () => void {
  installChildGuard();
  const once = () => kill();
  killers.add(once);
  return () => void killers.delete(once);
}

/** Removes `dir` (recursively) if it still exists when this process ends; releaseFolder(dir) once it is gone. */
export function guardFolder(dir: string): string {
  installChildGuard();
  folders.add(dir);
  return dir;
}

export function releaseFolder(dir: string): void {
  folders.delete(dir);
}

/** Synchronous: it runs in the `exit` handler, where nothing asynchronous gets to run. */
function cleanUp(): void {
  for (const kill of killers) {
    try {
      kill();
    } catch {
      // already gone
    }
  }
  killers.clear();
  for (const dir of folders) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // the sweep of the next run takes it
    }
  }
  folders.clear();
}
