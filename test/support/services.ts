import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "@jobs/service";
import { freePort } from "./nats-server.ts";

/**
 * Starts the real services as separate processes, exactly as `pnpm start:<service>` does
 * (node on the service's main.ts; Node strips the types), and keeps their output for the failure message.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export type ServiceName = "gateway" | "runner" | "projector";

export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit; returns the exit code (null when killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Leak guard: service processes still running when the test process exits are killed with it. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export function startService(name: ServiceName, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [join(ROOT, "services", name, "src", "main.ts")], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  running.add(child);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      running.delete(child);
      r(code);
    }),
  );
  return {
    name,
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Stack {
  baseUrl: string;
  token: string;
  env: Record<string, string>;
  services: ServiceProcess[];
  start(name: ServiceName, extraEnv?: Record<string, string>): ServiceProcess;
  /** Everything the services printed, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Gateway + projector + `runners` runner processes against the given NATS server and prefix.
 * `runnerIds` instead names each runner (RUNNER_ID), so a test can tell from a JobStarted
 * which process ran the job.
 */
export async function startStack(opts: {
  natsUrl: string;
  prefix: string;
  runners?: number;
  runnerIds?: string[];
  env?: Record<string, string>;
}): Promise<Stack> {
  const port = await freePort();
  const token = "e2e-token";
  const env = {
    NATS_URL: opts.natsUrl,
    JOBS_PREFIX: opts.prefix,
    HOST: "127.0.0.1",
    PORT: String(port),
    API_TOKENS: `e2e:${token},other:other-token`,
    ...opts.env,
  };
  const services: ServiceProcess[] = [];
  const start = (name: ServiceName, extraEnv: Record<string, string> = {}) => {
    const s = startService(name, { ...env, ...extraEnv });
    services.push(s);
    return s;
  };
  start("projector");
  if (opts.runnerIds) for (const id of opts.runnerIds) start("runner", { RUNNER_ID: id });
  else for (let i = 0; i < (opts.runners ?? 1); i++) start("runner");
  start("gateway");
  const baseUrl = `http://127.0.0.1:${port}`;
  const stack: Stack = {
    baseUrl,
    token,
    env,
    services,
    start,
    logs: () => services.map((s) => `--- ${s.name} (pid ${s.child.pid}) ---\n${s.output()}`).join("\n"),
    async stop() {
      await Promise.all(services.map((s) => s.stop("SIGTERM")));
    },
  };
  try {
    await waitForReady(stack);
  } catch (err) {
    // The caller never gets this stack to stop: leave no process behind.
    await Promise.all(services.map((s) => s.stop("SIGKILL")));
    throw err;
  }
  return stack;
}

async function knownJobTypes(stack: Stack): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/job-types`, { headers: { authorization: `Bearer ${stack.token}` } });
  if (res.status !== 200) return 0;
  return ((await res.json()) as { items: unknown[] }).items.length;
}

async function waitForReady(stack: Stack): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = "not listening";
  while (Date.now() < deadline) {
    const dead = stack.services.find((s) => s.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.child.exitCode} during start-up:\n${stack.logs()}`);
    try {
      const res = await fetch(`${stack.baseUrl}/readyz`);
      last = `${res.status} ${await res.text()}`;
      // Ready, and the runners' job types announced: a test may post any type at once.
      if (res.status === 200 && (await knownJobTypes(stack)) > 0) return;
      if (res.status === 200) last = "ready, but no job type announced yet";
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`gateway not ready after 30 s (last /readyz: ${last}):\n${stack.logs()}`);
}
