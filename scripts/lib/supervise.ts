import { spawn, type ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";
import { prefixLines } from "./prefix-lines.ts";

/**
 * One child process that `pnpm start` keeps alive: its output is prefixed with its name,
 * an unexpected exit is reported loudly and followed by a restart after a backoff that
 * doubles while it keeps crashing, and `stop()` ends it for good (SIGTERM, then SIGKILL
 * after a grace period).
 */
export interface ProcessSpec {
  /** Shown before each output line, e.g. "runner-1". */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** ANSI colour of the prefix on a terminal. */
  color?: number;
  /** The signal that asks it to shut down cleanly [SIGTERM]. */
  stopSignal?: NodeJS.Signals;
}

export interface SuperviseOptions {
  /** Supervisor messages (exits, restarts). */
  log: (message: string) => void;
  /** First restart delay; doubles after each crash up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run that lasted this long was healthy: the next crash starts from the first delay again. */
  stableAfterMs?: number;
  /** Where the child's prefixed lines go (our own stdout and stderr unless told). */
  stdout?: Writable;
  stderr?: Writable;
}

export class SupervisedProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableAfterMs: number;
  private backoffMs: number;
  /** How many times the process ended on its own (not through `stop`/`kill`). */
  unexpectedExits = 0;

  readonly spec: ProcessSpec;
  private readonly options: SuperviseOptions;

  constructor(
    spec: ProcessSpec,
    options: SuperviseOptions,
  ) {
    this.spec = spec;
    this.options = options;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 30_000;
    this.backoffMs = this.initialBackoffMs;
  }

  get isRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.stopped || this.isRunning) return;
    const startedAt = Date.now();
    // Its own process group: a Ctrl-C in the terminal reaches only the supervisor, which
    // then stops the services before nats-server instead of everything at once.
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    if (child.stdout) prefixLines(child.stdout, this.spec.name, this.options.stdout ?? process.stdout, this.spec.color);
    if (child.stderr) prefixLines(child.stderr, this.spec.name, this.options.stderr ?? process.stderr, this.spec.color);
    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const onEnd = (description: string) => {
        if (done) return;
        done = true;
        resolve();
        this.afterExit(description, Date.now() - startedAt);
      };
      child.once("exit", (code, signal) => onEnd(signal ? `signal ${signal}` : `code ${code}`));
      // A spawn failure (e.g. ENOENT) emits "error" and may never emit "exit".
      child.once("error", (err) => onEnd(`error: ${err.message}`));
    });
  }

  /** Ends it for good: no restart, its stop signal now, SIGKILL after `graceMs`. Resolves once it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.clearRestart();
    if (!this.isRunning) return;
    const stopSignal = this.spec.stopSignal ?? "SIGTERM";
    this.signal(stopSignal);
    const killer = setTimeout(() => {
      this.options.log(`${this.spec.name} still running ${graceMs / 1000} s after ${stopSignal}: sending SIGKILL`);
      this.signal("SIGKILL");
    }, graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  /** Ends it at once (a second Ctrl-C, or the supervisor itself failing). */
  kill(): void {
    this.stopped = true;
    this.clearRestart();
    if (this.isRunning) this.signal("SIGKILL");
  }

  private afterExit(description: string, ranMs: number): void {
    if (this.stopped) {
      this.options.log(`${this.spec.name} stopped (${description})`);
      return;
    }
    this.unexpectedExits += 1;
    if (ranMs >= this.stableAfterMs) this.backoffMs = this.initialBackoffMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.options.log(`!!! ${this.spec.name} exited unexpectedly (${description}) after ${formatSeconds(ranMs)}; restarting in ${formatSeconds(delay)}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, delay);
  }

  private clearRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      // The whole group, so that nothing the child started outlives it.
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
