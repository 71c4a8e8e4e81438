import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { sleep } from "@jobs/service";
import { HeapProbe } from "../lib/heap.ts";

const MB = 2 ** 20;

/** A Node process started as the bench starts a service it probes, running `script`, then idling. */
function startProcess(probe: HeapProbe, script: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", `${script}; console.log("ready"); setInterval(() => {}, 1000);`], {
    env: { ...process.env, ...probe.env() },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", () => resolve(child));
  });
}

describe("HeapProbe", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("reads what a process holds after a full collection, not its garbage", async () => {
    const probe = new HeapProbe();
    // One keeps 64 MB of small objects; the other keeps making and dropping 13 MB batches
    // of them, so its heap always holds garbage that only a full collection clears.
    cleanups.push(() => probe.dispose());
    const holding = await startProcess(probe, "globalThis.kept = []; for (let i = 0; i < 1_000_000; i++) kept.push({ i, s: 'x'.repeat(20) + i })");
    cleanups.push(() => holding.kill());
    const dropping = await startProcess(
      probe,
      "setInterval(() => { const xs = []; for (let i = 0; i < 200_000; i++) xs.push({ i, s: 'x'.repeat(20) + i }); }, 20)",
    );
    cleanups.push(() => dropping.kill());
    await sleep(1000); // garbage piles up

    const held = (await probe.afterFullGc(holding.pid!)).heapUsed / MB;
    const dropped = (await probe.afterFullGc(dropping.pid!)).heapUsed / MB;
    expect(held).toBeGreaterThan(40);
    expect(dropped).toBeLessThan(15);
  });

  it("says which process did not answer", async () => {
    const probe = new HeapProbe();
    const silent = spawn(process.execPath, ["-e", "process.on('SIGUSR2', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
    cleanups.push(() => silent.kill(), () => probe.dispose());
    await sleep(300); // its SIGUSR2 handler is in place
    await expect(probe.afterFullGc(silent.pid!, 500)).rejects.toThrow(`process ${silent.pid} did not answer the heap probe`);
  });
});
