import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { guardChild, installChildGuard } from "../../test/support/child-guard.ts";
import { baselineUnavailable } from "../lib/bullmq-system.ts";

/**
 * The bench end to end in its quick mode, ingest and end to end only, at both durability
 * pairs (the default): every process is started and stopped, and the table has its rows
 * with numbers in the columns of each pair. No timing is asserted: figures on a shared
 * CI machine mean nothing; that the bench runs does.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
installChildGuard(); // before the bench starts: it and its children carry this process's pid

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [join(ROOT, "bench/main.ts"), "--quick", "--only=ingest,e2e"], { cwd: ROOT, timeout: 160_000 }, (_err, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }),
    );
    // SIGTERM if this process ends first: the bench stops what it started.
    guardChild(child, { signal: "SIGTERM" });
  });
}

function tableLines(table: string): string[][] {
  return table
    .split("\n")
    .filter((l) => l.startsWith("| "))
    .map((l) => l.slice(2, -2).split(" | ").map((c) => c.trim()));
}

/** The cell in column `column` (its header) of the row whose metric is `metric` (first match after `scenarioStart`). */
function cell(table: string, scenarioStart: string, metric: string, column: string): string {
  const [header, ...rows] = tableLines(table);
  const i = header!.indexOf(column);
  if (i < 0) throw new Error(`no column "${column}" in: ${header!.join(" | ")}`);
  const cells = rows.find((c) => c[0]!.startsWith(scenarioStart) && c[1] === metric);
  if (cells === undefined) throw new Error(`no row "${metric}" in:\n${table}`);
  return cells[i]!;
}

const NUMBER = /^\d+(\.\d+)?$/;
const RATIO = /^\d+\.\d\dx$/;
const OURS = ["jetstream-jobs (always)", "jetstream-jobs (1s)"];
const BULLMQ = ["BullMQ (always)", "BullMQ (everysec)"];
const RATIOS = ["ours / BullMQ (always)", "ours / BullMQ (1s)"];
const ROWS: Array<[string, string]> = [
  ["1 ingest", "POST /job requests/s"],
  ["1 ingest", "POST /job latency p99 (ms)"],
  ["1 ingest", "non-2xx + errors"],
  ["1 ingest", "cores busy, gateway"],
  ["1 ingest", "cores busy, nats-server / redis-server"],
  ["2 end to end, 500 jobs, POST /job", "jobs/s, first request to last succeeded"],
  ["2 end to end, 500 jobs, POST /job", "202 -> succeeded p99 (ms)"],
  ["2 end to end, 500 jobs, POST /job/batch", "jobs/s, first request to last succeeded"],
  ["3 CPU per job (POST /job run)", "CPU ms/job, all processes"],
  ["3 CPU per job (POST /job run)", "CPU ms/job, nats-server / redis-server"],
];

describe("pnpm bench --quick", () => {
  let result: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
  const bench = () => (result ??= runQuickBench());

  it("runs ingest and end to end at both durability pairs and prints a table with our figures", async () => {
    const { code, stdout, stderr } = await bench();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^machine: .+, \d+ cores/m);
    expect(stdout).toMatch(/^load average at start: /m);
    expect(stdout).toMatch(/^durability "always": nats-server sync_interval: always, redis-server appendfsync always/m);
    expect(stdout).toMatch(/^durability "1s": nats-server sync_interval: 1s, redis-server appendfsync everysec/m);
    for (const column of OURS) {
      for (const [scenario, metric] of ROWS) expect(cell(stdout, scenario, metric, column), `${metric} / ${column}`).toMatch(NUMBER);
      expect(cell(stdout, "1 ingest", "non-2xx + errors", column)).toBe("0");
      // The gateway served every request of the run: it cannot have been idle.
      expect(Number(cell(stdout, "1 ingest", "cores busy, gateway", column))).toBeGreaterThan(0.05);
    }
    // What fsync-always costs us, as a ratio.
    expect(cell(stdout, "1 ingest", "POST /job requests/s", "ours always / 1s")).toMatch(RATIO);
    expect(cell(stdout, "2 end to end, 500 jobs, POST /job", "jobs/s, first request to last succeeded", "ours always / 1s")).toMatch(RATIO);
  }, 170_000);

  it.runIf(baselineUnavailable() === null)("prints BullMQ's figures beside ours, and the ratio, at each pair", async () => {
    const { stdout } = await bench();
    for (const [scenario, metric] of ROWS) {
      for (const [i, column] of BULLMQ.entries()) {
        const bullmq = cell(stdout, scenario, metric, column);
        expect(bullmq, `${metric} / ${column}`).toMatch(NUMBER);
        // A ratio wherever BullMQ's figure is not 0 (0 errors on both sides has none).
        if (Number(bullmq) !== 0) expect(cell(stdout, scenario, metric, RATIOS[i]!), `${metric} / ${RATIOS[i]}`).toMatch(RATIO);
      }
    }
  }, 170_000);
});
