import { DURABILITIES, type Durability } from "./durability.ts";

/** What `pnpm bench` runs, and with which numbers: the issue's, or small ones with --quick. */
export const SCENARIOS = ["ingest", "e2e", "open-loop", "scale-out", "steady", "waiting", "scale"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** A full `pnpm bench` runs these; `scale` (a million jobs, up to an hour) only when named in --only. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = ["ingest", "e2e", "open-loop", "scale-out", "steady", "waiting"];

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /**
   * The durability pairs to compare at (--durability; default both). The comparisons
   * (ingest, e2e, open-loop) run at each; the scenarios of our system alone (scale-out,
   * steady, waiting, scale) at the first.
   */
  durabilities: Durability[];
  /** Runs of each scenario per system; the table shows the median. */
  runs: number;
  /** Run BullMQ beside ours (off with --no-baseline). */
  baseline: boolean;
  /** RUNNER_CONCURRENCY of every runner, and the concurrency of every BullMQ worker. */
  concurrency: number;
  /** --cpu-prof=<dir>: every service of our system writes a V8 CPU profile there on exit. */
  cpuProfDir?: string;
  /** Seconds of the untimed POST /job burst each shared deployment gets before the first run. */
  warmUpS: number;
  ingest: { connections: number; durationS: number };
  e2e: { jobs: number; concurrency: number; batchSize: number; batchConcurrency: number };
  openLoop: { rate: number; durationS: number };
  scaleOut: { jobs: number; sleepMs: number; runnerCounts: number[] };
  steady: { jobs: number; checkpoints: number[]; gets: number; lists: number };
  /** Jobs that wait for a runAt an hour ahead, and immediate jobs run one at a time beside them. */
  waiting: { jobs: number; immediate: number };
  /** `--only=scale`: jobs (--scale-jobs), POST /job/batch of batchSize, inFlight requests at a time. */
  scale: { jobs: number; batchSize: number; inFlight: number; gets: number; lists: number };
}

type Numbers = Omit<BenchOptions, "quick" | "scenarios" | "durabilities" | "baseline" | "cpuProfDir">;

const FULL: Numbers = {
  runs: 3,
  concurrency: 8,
  warmUpS: 3,
  ingest: { connections: 64, durationS: 10 },
  e2e: { jobs: 20_000, concurrency: 64, batchSize: 1000, batchConcurrency: 4 },
  openLoop: { rate: 500, durationS: 10 },
  scaleOut: { jobs: 2000, sleepMs: 50, runnerCounts: [1, 2, 4] },
  steady: { jobs: 100_000, checkpoints: [20_000, 100_000], gets: 2000, lists: 200 },
  waiting: { jobs: 100_000, immediate: 20 },
  scale: { jobs: 1_000_000, batchSize: 1000, inFlight: 4, gets: 2000, lists: 200 },
};

/** Small enough that the whole bench, both durability pairs, takes about a minute. */
const QUICK: Numbers = {
  runs: 1,
  concurrency: 8,
  warmUpS: 1,
  ingest: { connections: 64, durationS: 2 },
  e2e: { jobs: 500, concurrency: 64, batchSize: 250, batchConcurrency: 2 },
  openLoop: { rate: 500, durationS: 1 },
  scaleOut: { jobs: 200, sleepMs: 50, runnerCounts: [1, 2] },
  steady: { jobs: 2000, checkpoints: [1000, 2000], gets: 200, lists: 20 },
  waiting: { jobs: 2000, immediate: 5 },
  scale: { jobs: 20_000, batchSize: 1000, inFlight: 4, gets: 200, lists: 20 },
};

export const USAGE = `usage: pnpm bench [-- options]
  --quick              small numbers, one run each (a smoke test, about a minute)
  --only=a,b           run only these scenarios: ${SCENARIOS.join(", ")}
                       (default: all but scale, a million jobs: 55 min at durability always on a 2-core VM)
  --durability=a,b     the durability pairs to compare at (default always,1s):
                         always: nats-server sync_interval always vs redis-server appendfsync always
                         1s:     nats-server sync_interval 1s     vs redis-server appendfsync everysec
                       our system alone (scale-out, steady, waiting, scale) runs at the first one
  --runs=N             runs per scenario and system (default 3; the table shows the median)
  --concurrency=N      RUNNER_CONCURRENCY of every runner and concurrency of every BullMQ worker (default 8)
  --no-baseline        skip BullMQ
  --cpu-prof=DIR       our services write V8 CPU profiles into DIR when they stop
  --scale-jobs=N       jobs of the scale scenario (default 1000000; 20000 with --quick)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const args = argv.filter((a) => a !== "--");
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ["--quick", "--no-baseline", "--help"];
  const unknown = args.filter((a) => !known.includes(a) && !/^--(only|runs|concurrency|cpu-prof|durability|scale-jobs)=/.test(a));
  if (unknown.length > 0 || args.includes("--help")) throw new Error(`${unknown.length > 0 ? `unknown option ${unknown.join(" ")}\n` : ""}${USAGE}`);

  const quick = args.includes("--quick");
  const numbers = quick ? QUICK : FULL;
  const only = value("only")?.split(",").filter(Boolean);
  const bad = only?.filter((s) => !(SCENARIOS as readonly string[]).includes(s)) ?? [];
  if (bad.length > 0) throw new Error(`unknown scenario ${bad.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  const durabilityList = value("durability")?.split(",").filter(Boolean) ?? [...DURABILITIES];
  const badDurability = durabilityList.filter((d) => !(DURABILITIES as readonly string[]).includes(d));
  if (badDurability.length > 0 || durabilityList.length === 0) throw new Error(`unknown durability ${badDurability.join(", ")}; known: ${DURABILITIES.join(", ")}`);
  const runs = value("runs") === undefined ? numbers.runs : Number(value("runs"));
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const concurrency = value("concurrency") === undefined ? numbers.concurrency : Number(value("concurrency"));
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new Error("--concurrency must be an integer 1..1000");
  const scaleJobs = value("scale-jobs") === undefined ? numbers.scale.jobs : Number(value("scale-jobs"));
  if (!Number.isInteger(scaleJobs) || scaleJobs < 1000) throw new Error("--scale-jobs must be an integer of at least 1000");
  return {
    ...numbers,
    quick,
    runs,
    concurrency,
    scenarios: only ? SCENARIOS.filter((s) => only.includes(s)) : [...DEFAULT_SCENARIOS],
    // In the order given (the first is our system's alone), each once.
    durabilities: [...new Set(durabilityList as Durability[])],
    baseline: !args.includes("--no-baseline"),
    cpuProfDir: value("cpu-prof"),
    scale: { ...numbers.scale, jobs: scaleJobs },
  };
}
