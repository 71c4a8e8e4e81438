import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardChild } from "../../test/support/child-guard.ts";
import { eventually } from "../../test/support/eventually.ts";
import { freePort, startNatsServer, testPrefix, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { isAcceptingConnections } from "../lib/nats-server.ts";

/**
 * `pnpm start` as a user runs it, against a test nats-server (NATS_URL set, so it starts
 * none of its own): all services come up with prefixed output, a killed runner comes
 * back, and SIGTERM stops everything cleanly.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SERVICES = ["gateway", "projector", "runner-1", "runner-2"];

/** The pids a service logged with (pino puts `pid` on every line), oldest first; only lines containing `text` when given. */
function pidsOf(output: string, name: string, text = ""): number[] {
  const lines = output.split("\n").filter((line) => line.startsWith(`${name} | `) && line.includes(text));
  const pids = lines.map((line) => /"pid":(\d+)/.exec(line)?.[1]).filter((pid) => pid !== undefined);
  return [...new Set(pids.map(Number))];
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null | "timeout"> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("pnpm start", () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  it("supervises gateway, projector and RUNNER_REPLICAS runners and stops them all on SIGTERM", { timeout: 120_000 }, async () => {
    const port = await freePort();
    // SIGTERM if the test process ends first: start.ts stops its services itself (a SIGKILL would orphan them).
    const start = guardChild(spawn(process.execPath, [join(ROOT, "scripts", "start.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        NATS_URL: nats.url,
        JOBS_PREFIX: testPrefix("start"),
        HOST: "127.0.0.1",
        PORT: String(port),
        RUNNER_REPLICAS: "2",
        API_TOKENS: "e2e:e2e-token",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    }), { signal: "SIGTERM" });
    let output = "";
    start.stdout?.on("data", (d) => (output += d));
    start.stderr?.on("data", (d) => (output += d));
    const failWith = (err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- pnpm start output ---\n${output}`);
    };

    try {
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          expect(res.status).toBe(200);
        },
        { timeoutMs: 45_000, intervalMs: 250 },
      ).catch(failWith);
      await eventually(() => SERVICES.forEach((name) => expect(pidsOf(output, name)).toHaveLength(1)), { timeoutMs: 20_000 }).catch(failWith);
      await eventually(() => expect(pidsOf(output, "runner-1", "runner started")).toHaveLength(1), { timeoutMs: 20_000 }).catch(failWith);

      // A runner that dies is reported and started again.
      const [crashed] = pidsOf(output, "runner-1");
      process.kill(crashed!, "SIGKILL");
      await eventually(() => expect(output).toContain("runner-1 exited unexpectedly (signal SIGKILL)")).catch(failWith);
      // Until it has started, a runner has no SIGTERM handler yet: wait for that before stopping.
      await eventually(() => expect(pidsOf(output, "runner-1", "runner started")).toHaveLength(2), { timeoutMs: 30_000 }).catch(failWith);

      start.kill("SIGTERM");
      expect(await waitForExit(start, 40_000), output).toBe(0);
      for (const name of SERVICES) expect(output).toContain(`${name} stopped (code 0)`);
      expect(await isAcceptingConnections("127.0.0.1", port)).toBe(false);
    } finally {
      // start.ts kills its children on the way out; SIGKILL would orphan them.
      if (start.exitCode === null && start.signalCode === null) {
        start.kill("SIGTERM");
        if ((await waitForExit(start, 30_000)) === "timeout") start.kill("SIGKILL");
      }
    }
  });
});
