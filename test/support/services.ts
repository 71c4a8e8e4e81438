import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "@jobs/service";
import { freePort, isAddressInUse } from "../../scripts/lib/free-port.ts";
import { guardChild, installChildGuard } from "./child-guard.ts";

/**
 * Starts the real services as separate processes, exactly as `pnpm start:<service>` does
 * (node on the service's main.ts; Node strips the types), and keeps their output for the failure message.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
installChildGuard(); // before the first spawn: every child carries its owner's pid

export type ServiceName = "gateway" | "runner" | "projector";

export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit; returns the exit code (null when killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Leak guard (child-guard.ts): a service process still running when the test process ends, however it ends, is killed with it. */
export function startService(name: ServiceName, env: Record<string, string>): ServiceProcess {
  const child = guardChild(
    spawn(process.execPath, [join(ROOT, "services", name, "src", "main.ts")], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
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
  // The stack's own token: a gateway of another stack that holds our port (ours could not listen) answers it 401.
  const token = `e2e-token-${process.pid}-${++stacks}`;
  const env: Record<string, string> = {
    NATS_URL: opts.natsUrl,
    JOBS_PREFIX: opts.prefix,
    HOST: "127.0.0.1",
    PORT: "",
    API_TOKENS: `e2e:${token},other:other-token`,
    ...opts.env,
  };
  const services: ServiceProcess[] = [];
  const start = (name: ServiceName, extraEnv: Record<string, string> = {}) => {
    const s = startService(name, { ...env, ...extraEnv });
    services.push(s);
    return s;
  };
  const stack: Stack = {
    baseUrl: "",
    token,
    env,
    services,
    start,
    logs: () => services.map((s) => `--- ${s.name} (pid ${s.child.pid}) ---\n${s.output()}`).join("\n"),
    async stop() {
      await Promise.all(services.map((s) => s.stop("SIGTERM")));
    },
  };
  start("projector");
  if (opts.runnerIds) for (const id of opts.runnerIds) start("runner", { RUNNER_ID: id });
  else for (let i = 0; i < (opts.runners ?? 1); i++) start("runner");
  for (let tries = 1; ; tries++) {
    // A free port is only free a moment ago: a gateway that finds it taken is started again on another.
    const port = await freePort();
    env.PORT = String(port);
    stack.baseUrl = `http://127.0.0.1:${port}`;
    const gateway = start("gateway");
    try {
      await waitForReady(stack);
      return stack;
    } catch (err) {
      if (tries < GATEWAY_TRIES && gateway.child.exitCode !== null && isAddressInUse(await completeOutput(gateway))) {
        services.splice(services.indexOf(gateway), 1);
        continue;
      }
      // The caller never gets this stack to stop: leave no process behind.
      await Promise.all(services.map((s) => s.stop("SIGKILL")));
      throw err;
    }
  }
}

let stacks = 0;
const GATEWAY_TRIES = 5;

/** Everything a process that exited printed (its pipes may still hold some when it exits). */
async function completeOutput(s: ServiceProcess): Promise<string> {
  const open = [s.child.stdout, s.child.stderr].some((r) => r && !r.readableEnded && !r.destroyed);
  if (open) await new Promise((r) => s.child.once("close", r));
  return s.output();
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
