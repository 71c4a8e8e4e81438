import autocannon from "autocannon";
import { alternateRuns, cells, type BenchContext } from "../lib/context.ts";
import { NOOP_JOB, type SystemUnderTest } from "../lib/system.ts";
import type { Row } from "../lib/table.ts";

interface IngestRun {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, plus errors and timeouts: every one is a request not accepted. */
  failed: number;
}

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
  ];
}

export async function ingestRun(sys: SystemUnderTest, opts: { connections: number; durationS: number }): Promise<IngestRun> {
  const result = await autocannon({
    url: `${sys.baseUrl}/job`,
    method: "POST",
    connections: opts.connections,
    duration: opts.durationS,
    headers: { authorization: `Bearer ${sys.token}`, "content-type": "application/json" },
    body: JSON.stringify(NOOP_JOB),
  });
  return {
    requestsPerSecond: result["2xx"] / opts.durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}
