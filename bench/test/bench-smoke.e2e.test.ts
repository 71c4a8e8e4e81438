import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { baselineUnavailable } from "../lib/bullmq-system.ts";

/**
 * The bench end to end in its quick mode, ingest and end to end only: every process is
 * started and stopped, and the table has its rows with numbers. No timing is asserted:
 * figures on a shared CI machine mean nothing; that the bench runs does.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TSX = createRequire(join(ROOT, "package.json")).resolve("tsx");

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ["--import", TSX, join(ROOT, "bench/main.ts"), "--quick", "--only=ingest,e2e"], { cwd: ROOT, timeout: 110_000 }, (_err, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** The cells of the table row whose metric column is `metric` (first match after `scenarioStart`). */
function row(table: string, scenarioStart: string, metric: string): string[] {
  const cells = table
    .split("\n")
    .filter((l) => l.startsWith("| "))
    .map((l) => l.slice(2, -2).split(" | ").map((c) => c.trim()))
    .find((c) => c[0]!.startsWith(scenarioStart) && c[1] === metric);
  if (cells === undefined) throw new Error(`no row "${metric}" in:\n${table}`);
  return cells;
}

const NUMBER = /^\d+(\.\d+)?$/;
const ROWS: Array<[string, string]> = [
  ["1 ingest", "POST /job requests/s"],
  ["1 ingest", "POST /job latency p99 (ms)"],
  ["1 ingest", "non-2xx + errors"],
  ["1 ingest", "cores busy, gateway"],
  ["1 ingest", "cores busy, nats-server / redis-server"],
  ["2 end to end, 1000 jobs, POST /job", "jobs/s, first request to last succeeded"],
  ["2 end to end, 1000 jobs, POST /job", "202 -> succeeded p99 (ms)"],
  ["3 CPU per job (POST /job run)", "CPU ms/job, all processes"],
  ["3 CPU per job (POST /job run)", "CPU ms/job, nats-server / redis-server"],
];

describe("pnpm bench --quick", () => {
  let result: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
  const bench = () => (result ??= runQuickBench());

  it("runs ingest and end to end and prints a table with our figures", async () => {
    const { code, stdout, stderr } = await bench();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^machine: .+, \d+ cores/m);
    expect(stdout).toMatch(/^load average at start: /m);
    for (const [scenario, metric] of ROWS) expect(row(stdout, scenario, metric)[2], metric).toMatch(NUMBER);
    expect(row(stdout, "1 ingest", "non-2xx + errors")[2]).toBe("0");
    // The gateway served every request of the run: it cannot have been idle.
    expect(Number(row(stdout, "1 ingest", "cores busy, gateway")[2])).toBeGreaterThan(0.05);
  }, 120_000);

  it.runIf(baselineUnavailable() === null)("prints BullMQ's figures beside ours", async () => {
    const { stdout } = await bench();
    for (const [scenario, metric] of ROWS) expect(row(stdout, scenario, metric)[3], metric).toMatch(NUMBER);
  }, 120_000);
});
