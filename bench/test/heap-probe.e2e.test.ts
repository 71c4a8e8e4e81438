import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { guardChild } from "../../test/support/child-guard.ts";
import { eventually } from "../../test/support/eventually.ts";
import { HeapProbe } from "../lib/heap.ts";

const MB = 2 ** 20;

/** A Node process running `script` (with `env`), then idling; resolves once it printed "ready". Its later lines land in `lines`. */
function startProcess(script: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = guardChild(
    spawn(process.execPath, ["-e", `${script}; console.log("ready"); setInterval(() => {}, 1000);`], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => reject(new Error(`exited (${code ?? signal}) before it was ready`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line === "ready") resolve({ child, lines });
      else lines.push(line);
    });
  });
}

describe("HeapProbe", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("reads what a process holds after a full collection, not its garbage", async () => {
    const probe = new HeapProbe();
    cleanups.push(() => probe.dispose());
    // One keeps 64 MB of small objects; the other keeps making and dropping 13 MB batches
    // of them, and says how much its heap holds before each batch.
    const holding = await startProcess("globalThis.kept = []; for (let i = 0; i < 1_000_000; i++) kept.push({ i, s: 'x'.repeat(20) + i })", probe.env());
    cleanups.push(() => holding.child.kill());
    const dropping = await startProcess(
      "setInterval(() => { console.log(process.memoryUsage().heapUsed); const xs = []; for (let i = 0; i < 200_000; i++) xs.push({ i, s: 'x'.repeat(20) + i }); }, 20)",
      probe.env(),
    );
    cleanups.push(() => dropping.child.kill());
    // Until its heap holds well over the bound below in garbage: only a full collection clears that.
    await eventually(() => expect(Math.max(...dropping.lines.map(Number)) / MB).toBeGreaterThan(30), { timeoutMs: 20_000, intervalMs: 100 });

    const held = (await probe.afterFullGc(holding.child.pid!)).heapUsed / MB;
    const dropped = (await probe.afterFullGc(dropping.child.pid!)).heapUsed / MB;
    expect(held).toBeGreaterThan(40);
    expect(dropped).toBeLessThan(15);
  });

  it("says which process did not answer", async () => {
    const probe = new HeapProbe();
    cleanups.push(() => probe.dispose());
    // Its SIGUSR2 handler is in place once it says "ready"; it never writes an answer.
    const { child: silent } = await startProcess("process.on('SIGUSR2', () => {})");
    cleanups.push(() => silent.kill());
    await expect(probe.afterFullGc(silent.pid!, 500)).rejects.toThrow(`process ${silent.pid} did not answer the heap probe`);
  });
});
