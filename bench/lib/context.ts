import type { Cleanup } from "./cleanup.ts";
import type { Durability } from "./durability.ts";
import type { BenchOptions } from "./options.ts";
import type { SystemName, SystemUnderTest } from "./system.ts";
import { notAvailable, type Cells, type NotAvailable, type Row } from "./table.ts";

/** What every scenario gets from main.ts. */
export interface BenchContext {
  options: BenchOptions;
  cleanup: Cleanup;
  /** Progress, on stderr (the table goes to stdout). */
  log(message: string): void;
  /**
   * The long-lived deployments the comparison scenarios share: ours and BullMQ's (when it
   * can run) at each durability pair of the options.
   */
  systems(): Promise<SystemUnderTest[]>;
  /** A line printed below the table (what went wrong in a part of a scenario, say). */
  note(message: string): void;
  /** Why BullMQ's columns are empty, or null when it runs. */
  baselineMissing: string | null;
  /** The durability the scenarios of our system alone run at (the first of --durability). */
  soloDurability: Durability;
}

/** Each system's runs, keyed by systemKey(). */
export type PerSystem<T> = Map<string, T[]>;

const systemKey = (name: SystemName, durability: Durability) => `${name}@${durability}`;

/**
 * Runs `run` `options.runs` times on each system, alternating which goes first, each run
 * starting with every system idle: load from outside the bench then falls on all alike.
 */
export async function alternateRuns<T>(ctx: BenchContext, label: string, run: (sys: SystemUnderTest, i: number) => Promise<T>): Promise<PerSystem<T>> {
  const systems = await ctx.systems();
  const out: PerSystem<T> = new Map(systems.map((s) => [systemKey(s.name, s.durability), []]));
  for (let i = 0; i < ctx.options.runs; i++) {
    const order = i % 2 === 0 ? systems : [...systems].reverse();
    for (const sys of order) {
      // Every system idle, not just this one: another's leftover backlog would take cores from this run.
      await Promise.all(systems.map((s) => s.waitIdle()));
      ctx.log(`${label}: ${sys.name} (${sys.durability}) run ${i + 1}/${ctx.options.runs}`);
      out.get(systemKey(sys.name, sys.durability))!.push(await run(sys, i));
    }
  }
  return out;
}

/** One figure of the runs of each system, as the table's cells at every durability pair. */
export function cells<T>(ctx: BenchContext, results: PerSystem<T>, pick: (r: T) => number | NotAvailable): Pick<Row, "by"> {
  const column = (name: SystemName, d: Durability, missing: string) => {
    const runs = results.get(systemKey(name, d));
    if (runs === undefined || runs.length === 0) return notAvailable(missing);
    const picked = runs.map(pick);
    const na = picked.find((p): p is NotAvailable => typeof p !== "number");
    return na ?? (picked as number[]);
  };
  const by: Partial<Record<Durability, Cells>> = {};
  for (const d of ctx.options.durabilities) by[d] = { ours: column("ours", d, "not run"), bullmq: column("bullmq", d, ctx.baselineMissing ?? "skipped") };
  return { by };
}

/** The runs of one system at one durability (rows of ours alone drawn from a comparison). */
export function runsOf<T>(results: PerSystem<T>, name: SystemName, d: Durability): T[] {
  return results.get(systemKey(name, d)) ?? [];
}
