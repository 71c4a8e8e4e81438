import { alternateRuns, cells, runsOf, type BenchContext } from "../lib/context.ts";
import type { Durability } from "../lib/durability.ts";
import { now } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import { cpuByRole, cpuSnapshot } from "../lib/cpu.ts";
import { HttpClient } from "../lib/http-client.ts";
import type { BenchOptions } from "../lib/options.ts";
import { submitBatches, submitSingles } from "../lib/submit.ts";
import type { Role, SystemUnderTest } from "../lib/system.ts";
import { notAvailable, type NotAvailable, type Row } from "../lib/table.ts";

export type SubmitMode = "single" | "batch";

interface EndToEndRun {
  jobsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU ms per job of each kind of process, and of all of them. */
  cpuMsPerJob: Partial<Record<Role, number>> & { all: number };
  /** Messages stored per job in each stream (ours: events, view writes, index pages). */
  writesPerJob: Record<string, number>;
  /** Batch items answered 503 (not stored, send again) and sent again. */
  resent: number;
}

/**
 * Scenarios 2 and 3: N no-op jobs submitted over HTTP (single POST /job calls, or
 * POST /job/batch), timed from the first request to the last job seen succeeded (in
 * our view bucket; by BullMQ's QueueEvents), with each job's latency from its 202 to
 * that moment, and the CPU every process of the deployment spent meanwhile.
 */
export async function endToEndScenario(ctx: BenchContext, mode: SubmitMode): Promise<Row[]> {
  const o = ctx.options.e2e;
  const results = await alternateRuns(ctx, `end to end (${mode})`, (sys) => endToEndRun(sys, mode, o));
  const scenario = mode === "single" ? `2 end to end, ${o.jobs} jobs, POST /job` : `2 end to end, ${o.jobs} jobs, POST /job/batch (${o.batchSize}/request)`;
  const pick = (f: (r: EndToEndRun) => number | NotAvailable) => (r: EndToEndRun | NotAvailable) => ("na" in r ? r : f(r));
  const rows: Row[] = [
    {
      scenario,
      metric: "jobs/s, first request to last succeeded",
      ...cells(ctx, results, pick((r) => r.jobsPerSecond)),
      ...(mode === "single" ? { target: { text: ">= 0.5x BullMQ", relative: true, met: (o: number, b?: number) => b !== undefined && o >= 0.5 * b } } : {}),
    },
    { scenario, metric: "202 -> succeeded p50 (ms)", ...cells(ctx, results, pick((r) => r.p50)), decimals: 1 },
    { scenario, metric: "202 -> succeeded p99 (ms)", ...cells(ctx, results, pick((r) => r.p99)), decimals: 1 },
  ];
  const cpu = (role: Role | "all", metric: string): Row => ({
    scenario: `3 CPU per job (${mode === "single" ? "POST /job" : "batch"} run)`,
    metric,
    ...cells(ctx, results, pick((r) => r.cpuMsPerJob[role] ?? notAvailable("no such process", "-"))),
    decimals: 3,
  });
  if (mode === "batch") rows.push({ scenario, metric: "batch items answered 503 and sent again", ...cells(ctx, results, pick((r) => r.resent)) });
  rows.push(cpu("all", "CPU ms/job, all processes"));
  if (mode === "single") {
    rows.push(
      cpu("store", "CPU ms/job, nats-server / redis-server"),
      cpu("gateway", "CPU ms/job, gateway"),
      cpu("runner", "CPU ms/job, runner / worker"),
      cpu("projector", "CPU ms/job, projector"),
    );
    rows.push(...writeRows(ctx.options.durabilities.map((d) => [d, runsOf(results, "ours", d)])));
  }
  return rows;
}

/** What one job costs the store: messages written per job to each stream (events, view, index), at each durability. */
function writeRows(runs: ReadonlyArray<[Durability, readonly (EndToEndRun | NotAvailable)[]]>): Row[] {
  const measured = runs.map(([d, r]) => [d, r.filter((x): x is EndToEndRun => !("na" in x))] as const);
  const all = measured.flatMap(([, r]) => r);
  const streams = [...new Set(all.flatMap((r) => Object.keys(r.writesPerJob).filter((s) => r.writesPerJob[s]! > 0)))].sort();
  return streams.map((stream) => ({
    scenario: "3 stream writes per job (POST /job run)",
    metric: `messages/job, stream ${stream}`,
    by: Object.fromEntries(measured.filter(([, r]) => r.length > 0).map(([d, r]) => [d, { ours: r.map((x) => x.writesPerJob[stream] ?? 0) }])),
    decimals: 2,
  }));
}

export async function endToEndRun(sys: SystemUnderTest, mode: SubmitMode, o: BenchOptions["e2e"]): Promise<EndToEndRun | NotAvailable> {
  if (mode === "batch" && !sys.batch) return notAvailable("POST /job/batch answers 404/405: not built yet");
  const tracker = new CompletionTracker(o.jobs);
  const watch = await sys.watchSucceeded(tracker.onSucceeded);
  const client = new HttpClient(sys.baseUrl, sys.token, o.concurrency);
  const processes = sys.processes();
  const writesBefore = (await sys.storeWrites?.()) ?? {};
  const before = cpuSnapshot(processes);
  const start = now();
  let resent = 0;
  try {
    if (mode === "single") await submitSingles(client, o.jobs, o.concurrency, tracker.onAccepted);
    else ({ resent } = await submitBatches(client, o.jobs, o.batchSize, o.batchConcurrency, tracker.onAccepted));
    await tracker.waitForAll(120_000 + o.jobs * 10);
  } finally {
    await watch.stop();
    client.close();
  }
  const spent = cpuByRole(processes, before, cpuSnapshot(processes));
  await sys.waitIdle(); // the last acks and view writes of the run land before counting
  const writesAfter = (await sys.storeWrites?.()) ?? {};
  const writesPerJob = Object.fromEntries(Object.entries(writesAfter).map(([stream, n]) => [stream, (n - (writesBefore[stream] ?? 0)) / o.jobs]));
  const seconds = (tracker.lastCompletion() - start) / 1000;
  const perJob = (s: number) => (s * 1000) / o.jobs;
  const cpuMsPerJob: EndToEndRun["cpuMsPerJob"] = { all: perJob(Object.values(spent).reduce((a, b) => a + b, 0)) };
  for (const [role, s] of Object.entries(spent) as [Role, number][]) cpuMsPerJob[role] = perJob(s);
  return { jobsPerSecond: o.jobs / seconds, ...tracker.latencySummary(), cpuMsPerJob, writesPerJob, resent };
}
