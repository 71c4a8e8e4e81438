import type { Cleanup } from "./cleanup.ts";
import type { BenchOptions } from "./options.ts";
import type { SystemName, SystemUnderTest } from "./system.ts";
import { notAvailable, type NotAvailable } from "./table.ts";

/** What every scenario gets from main.ts. */
export interface BenchContext {
  options: BenchOptions;
  cleanup: Cleanup;
  /** Progress, on stderr (the table goes to stdout). */
  log(message: string): void;
  /** The long-lived deployments the comparison scenarios share: ours, and BullMQ's when it can run. */
  systems(): Promise<SystemUnderTest[]>;
  /** Why BullMQ's columns are empty, or null when it runs. */
  baselineMissing: string | null;
}

export type PerSystem<T> = Map<SystemName, T[]>;

/**
 * Runs `run` `options.runs` times on each system, alternating which goes first, each run
 * starting with every system idle: load from outside the bench then falls on both alike.
 */
export async function alternateRuns<T>(ctx: BenchContext, label: string, run: (sys: SystemUnderTest, i: number) => Promise<T>): Promise<PerSystem<T>> {
  const systems = await ctx.systems();
  const out: PerSystem<T> = new Map(systems.map((s) => [s.name, []]));
  for (let i = 0; i < ctx.options.runs; i++) {
    const order = i % 2 === 0 ? systems : [...systems].reverse();
    for (const sys of order) {
      // Every system idle, not just this one: another's leftover backlog would take cores from this run.
      await Promise.all(systems.map((s) => s.waitIdle()));
      ctx.log(`${label}: ${sys.name} run ${i + 1}/${ctx.options.runs}`);
      out.get(sys.name)!.push(await run(sys, i));
    }
  }
  return out;
}

/** One figure of the runs of each system, as the table's ours / BullMQ cells. */
export function cells<T>(ctx: BenchContext, results: PerSystem<T>, pick: (r: T) => number | NotAvailable): { ours: number[] | NotAvailable; bullmq: number[] | NotAvailable } {
  const column = (name: SystemName, missing: string) => {
    const runs = results.get(name);
    if (runs === undefined || runs.length === 0) return notAvailable(missing);
    const picked = runs.map(pick);
    const na = picked.find((p): p is NotAvailable => typeof p !== "number");
    return na ?? (picked as number[]);
  };
  return { ours: column("ours", "not run"), bullmq: column("bullmq", ctx.baselineMissing ?? "skipped") };
}
