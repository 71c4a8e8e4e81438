import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { guard } from "../../test/support/child-guard.ts";
import { eventually } from "../../test/support/eventually.ts";
import { SupervisedProcess, type ProcessSpec } from "../lib/supervise.ts";

/** Small node children that stand in for the services. */
const CHILD = {
  /** Prints on both streams (the last line without a newline), then idles until SIGTERM. */
  talkative: `console.log("one"); console.error("two"); process.stdout.write("three"); setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));`,
  crashing: `console.log("up " + process.pid); setTimeout(() => process.exit(3), 50);`,
  stubborn: `process.on("SIGTERM", () => console.log("ignoring SIGTERM")); setInterval(() => {}, 1000); console.log("ready");`,
};

class Collect extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const running: SupervisedProcess[] = [];
afterEach(() => running.splice(0).forEach((p) => p.kill()));

function supervise(name: string, code: string, options: { initialBackoffMs?: number } = {}) {
  const out = new Collect();
  const messages: string[] = [];
  const spec: ProcessSpec = { name, command: process.execPath, args: ["-e", code] };
  const proc = new SupervisedProcess(spec, { log: (m) => messages.push(m), stdout: out, stderr: out, ...options });
  running.push(proc);
  // Its children run in process groups of their own (no Ctrl-C reaches them): killed however this process ends.
  guard(() => proc.kill());
  proc.start();
  return { proc, out, messages };
}

describe("SupervisedProcess", () => {
  it("prefixes every line of both streams with the name, the unterminated last one too", async () => {
    const { proc, out } = supervise("runner-1", CHILD.talkative);
    await eventually(() => expect(out.text.split("\n").filter(Boolean).sort()).toEqual(["runner-1 | one", "runner-1 | two"]));
    await proc.stop(5000);
    expect(proc.isRunning).toBe(false);
    // A line without its newline comes out when the stream ends.
    await eventually(() => expect(out.text).toContain("runner-1 | three\n"));
  });

  it("restarts a process that exits on its own, reporting it, with a backoff that doubles", async () => {
    const { proc, out, messages } = supervise("projector", CHILD.crashing, { initialBackoffMs: 100 });
    await eventually(() => expect(proc.unexpectedExits).toBeGreaterThanOrEqual(3), { timeoutMs: 15_000 });
    await proc.stop(5000);
    const pids = new Set([...out.text.matchAll(/projector \| up (\d+)/g)].map((m) => m[1]));
    expect(pids.size).toBeGreaterThanOrEqual(3);
    expect(messages[0]).toMatch(/projector exited unexpectedly \(code 3\).*restarting in 0\.1 s/);
    expect(messages[1]).toMatch(/restarting in 0\.2 s/);
    expect(messages[2]).toMatch(/restarting in 0\.4 s/);
  });

  it("does not restart after stop(), even when a restart was pending", async () => {
    const { proc, messages } = supervise("runner-2", CHILD.crashing, { initialBackoffMs: 60_000 });
    await eventually(() => expect(proc.unexpectedExits).toBe(1));
    await proc.stop(5000);
    const exits = messages.length;
    // The pending restart was 60 s away; nothing may start and nothing more be reported.
    expect(proc.isRunning).toBe(false);
    proc.start();
    expect(proc.isRunning).toBe(false);
    expect(messages.length).toBe(exits);
  });

  it("kills a process that ignores SIGTERM once the grace period is over", async () => {
    const { proc, out, messages } = supervise("gateway", CHILD.stubborn);
    await eventually(() => expect(out.text).toContain("gateway | ready"));
    await proc.stop(300);
    // SIGTERM first (the child heard it), SIGKILL only when the grace timer said so, and that ended it.
    expect(out.text).toContain("gateway | ignoring SIGTERM");
    expect(messages.join("\n")).toMatch(/gateway still running 0\.3 s after SIGTERM: sending SIGKILL[\s\S]*gateway stopped \(signal SIGKILL\)/);
    expect(proc.unexpectedExits).toBe(0);
  });
});
