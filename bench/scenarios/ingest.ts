import autocannon from "autocannon";
import { alternateRuns, cells, type BenchContext } from "../lib/context.ts";
import { cpuByRole, cpuSnapshot } from "../lib/cpu.ts";
import { NOOP_JOB, type Role, type SystemUnderTest } from "../lib/system.ts";
import { notAvailable, type Row } from "../lib/table.ts";

interface IngestRun {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, plus errors and timeouts: every one is a request not accepted. */
  failed: number;
  /**
   * Cores each kind of process kept busy during the run (CPU seconds / wall seconds),
   * "client" being autocannon in the bench process. The runners and the projector work
   * through the jobs while they arrive, so on a small machine the gateway gets what they
   * and the store leave: these rows show the split.
   */
  cores: Partial<Record<Role | "client", number>>;
}

const CORE_ROWS: [Role | "client", string][] = [
  ["store", "cores busy, nats-server / redis-server"],
  ["gateway", "cores busy, gateway"],
  ["runner", "cores busy, runner / worker"],
  ["projector", "cores busy, projector"],
  ["client", "cores busy, autocannon (bench process)"],
];

/**
 * Scenario 1: how fast the gateway accepts no-op jobs. autocannon, closed loop, N
 * connections for D seconds, against `POST /job`; the rest of the deployment runs as it
 * would (runners and projector work through the jobs meanwhile and afterwards; the next
 * run starts once everything is idle).
 */
export async function ingestScenario(ctx: BenchContext): Promise<Row[]> {
  const results = await alternateRuns(ctx, "ingest", (sys) => ingestRun(sys, ctx.options.ingest));
  const { connections, durationS } = ctx.options.ingest;
  const scenario = `1 ingest (${connections} conn, ${durationS} s)`;
  return [
    {
      scenario,
      metric: "POST /job requests/s",
      ...cells(ctx, results, (r) => r.requestsPerSecond),
      target: { text: ">= 0.8x BullMQ", relative: true, met: (o, b) => b !== undefined && o >= 0.8 * b },
    },
    { scenario, metric: "POST /job latency p50 (ms)", ...cells(ctx, results, (r) => r.p50), decimals: 1 },
    { scenario, metric: "POST /job latency p99 (ms)", ...cells(ctx, results, (r) => r.p99), decimals: 1 },
    { scenario, metric: "non-2xx + errors", ...cells(ctx, results, (r) => r.failed), target: { text: "0", met: (o) => o === 0 } },
    ...CORE_ROWS.map(([role, metric]): Row => ({
      scenario,
      metric,
      ...cells(ctx, results, (r) => r.cores[role] ?? notAvailable("no such process", "-")),
      decimals: 2,
    })),
  ];
}

export async function ingestRun(sys: SystemUnderTest, opts: { connections: number; durationS: number }): Promise<IngestRun> {
  const processes = sys.processes();
  const before = cpuSnapshot(processes);
  const clientBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await autocannon({
    url: `${sys.baseUrl}/job`,
    method: "POST",
    connections: opts.connections,
    duration: opts.durationS,
    headers: { authorization: `Bearer ${sys.token}`, "content-type": "application/json" },
    body: JSON.stringify(NOOP_JOB),
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const spent = cpuByRole(processes, before, cpuSnapshot(processes));
  const client = process.cpuUsage(clientBefore);
  const cores: IngestRun["cores"] = { client: (client.user + client.system) / 1e6 / seconds };
  for (const [role, s] of Object.entries(spent) as [Role, number][]) cores[role] = s / seconds;
  return {
    requestsPerSecond: result["2xx"] / opts.durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    cores,
  };
}
