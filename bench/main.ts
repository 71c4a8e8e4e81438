import { baselineUnavailable, startBullmqSystem } from "./lib/bullmq-system.ts";
import { Cleanup } from "./lib/cleanup.ts";
import { now } from "./lib/clock.ts";
import type { BenchContext } from "./lib/context.ts";
import { describeDurability } from "./lib/durability.ts";
import { describeMachine, loadAverage } from "./lib/machine.ts";
import { parseOptions, type BenchOptions, type ScenarioName } from "./lib/options.ts";
import { startOurSystem } from "./lib/our-system.ts";
import { warmUp } from "./lib/warm-up.ts";
import type { SystemUnderTest } from "./lib/system.ts";
import { formatRuns, formatTable, type Row } from "./lib/table.ts";
import { endToEndScenario } from "./scenarios/end-to-end.ts";
import { ingestScenario } from "./scenarios/ingest.ts";
import { openLoopScenario } from "./scenarios/open-loop.ts";
import { scaleScenario } from "./scenarios/scale.ts";
import { scaleOutScenario } from "./scenarios/scale-out.ts";
import { steadyStateScenario } from "./scenarios/steady-state.ts";
import { waitingScenario } from "./scenarios/waiting.ts";

/**
 * `pnpm bench`: our services and BullMQ, each deployed as separate processes on its own
 * fresh server, measured by the same client in the same run; one table on stdout,
 * progress on stderr. See bench/README.md for what each row means.
 */
const SCENARIOS: Record<ScenarioName, (ctx: BenchContext) => Promise<Row[]>> = {
  ingest: ingestScenario,
  e2e: async (ctx) => [...(await endToEndScenario(ctx, "single")), ...(await endToEndScenario(ctx, "batch"))],
  "open-loop": openLoopScenario,
  "scale-out": scaleOutScenario,
  steady: steadyStateScenario,
  waiting: waitingScenario,
  scale: scaleScenario,
};
/** These share long-lived deployments of each system (one per durability pair); the others start their own. */
const COMPARED: readonly ScenarioName[] = ["ingest", "e2e", "open-loop"];

async function main(options: BenchOptions): Promise<number> {
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const started = now();
  const log = (m: string) => process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const baselineMissing = options.baseline ? baselineUnavailable() : "skipped (--no-baseline)";
  if (options.baseline && baselineMissing) log(`BullMQ baseline unavailable: ${baselineMissing}`);

  let shared: Promise<SystemUnderTest[]> | null = null;
  const stopShared: Array<() => Promise<void>> = [];
  const ctx: BenchContext = {
    options,
    cleanup,
    log,
    baselineMissing,
    soloDurability: options.durabilities[0]!,
    note: (m) => notes.push(m),
    systems: () =>
      (shared ??= (async () => {
        // All of them up at once, idle but for the run being measured: the runs of every
        // system and durability then alternate, and load from outside falls on all alike.
        // Started side by side (nothing is measured yet), each registered for cleanup as
        // soon as it is up; listed in a fixed order: ours, BullMQ, per pair.
        const start = async (what: string, sys: () => Promise<SystemUnderTest>) => {
          log(`starting ${what}`);
          const s = await sys();
          stopShared.push(cleanup.add(what, () => s.stop()));
          return s;
        };
        const starting = options.durabilities.flatMap((durability) => [
          start(`our deployment (${durability}): nats-server, gateway, projector, 1 runner`, () =>
            startOurSystem({ runners: 1, concurrency: options.concurrency, cpuProfDir: options.cpuProfDir, durability }),
          ),
          ...(baselineMissing
            ? []
            : [start(`the BullMQ deployment (${durability}): redis-server, gateway, 1 worker`, () => startBullmqSystem({ workers: 1, concurrency: options.concurrency, durability }))]),
        ]);
        const started = await Promise.allSettled(starting);
        const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
        const systems = started.map((r) => (r as PromiseFulfilledResult<SystemUnderTest>).value);
        log("all deployments are up");
        if (!systems[0]!.batch) log("POST /job/batch is not built yet: its rows say n/a");
        for (const sys of systems) {
          log(`warming up ${sys.name} (${sys.durability}) (untimed POST /job burst)`);
          await warmUp(sys, options.warmUpS);
        }
        return systems;
      })()),
  };

  const header = [
    ...describeMachine(),
    `options: ${options.quick ? "--quick, " : ""}${options.runs} run(s) per scenario and system, RUNNER_CONCURRENCY = worker concurrency = ${options.concurrency}`,
    ...options.durabilities.map(describeDurability),
  ];
  const solo = options.scenarios.filter((n) => !COMPARED.includes(n));
  if (solo.length > 0) header.push(`our system alone (${solo.join(", ")}) runs at durability "${ctx.soloDurability}"`);
  const rows: Row[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  try {
    for (const name of options.scenarios) {
      if (!COMPARED.includes(name)) {
        // The comparison is over: free the cores and memory for the deployments to come.
        for (const stop of stopShared.splice(0)) await stop();
      }
      try {
        rows.push(...(await SCENARIOS[name](ctx)));
      } catch (err) {
        failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
        log(`scenario ${name} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await cleanup.runAll();
  }

  const out = [...header, "", formatTable(rows, options.durabilities), ""];
  const runs = formatRuns(rows, options.durabilities);
  if (runs.length > 0) out.push("every run (the table shows the median):", ...runs.map((r) => `  ${r}`), "");
  if (baselineMissing) out.push(`BullMQ: ${baselineMissing}`);
  out.push(`load average at end: ${loadAverage()}; took ${((now() - started) / 1000).toFixed(0)} s`);
  for (const n of notes) out.push(`NOTE ${n}`);
  for (const f of failures) out.push(`FAILED ${f}`);
  process.stdout.write(`${out.join("\n")}\n`);
  return failures.length + notes.length > 0 ? 1 : 0;
}

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
process.exitCode = await main(options);
