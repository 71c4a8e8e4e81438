/** What `pnpm bench` runs, and with which numbers: the issue's, or small ones with --quick. */
export const SCENARIOS = ["ingest", "e2e", "open-loop", "scale-out", "steady"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /** Runs of each scenario per system; the table shows the median. */
  runs: number;
  /** Run BullMQ beside ours (off with --no-baseline). */
  baseline: boolean;
  /** RUNNER_CONCURRENCY of every runner, and the concurrency of every BullMQ worker. */
  concurrency: number;
  /** --cpu-prof=<dir>: every service of our system writes a V8 CPU profile there on exit. */
  cpuProfDir?: string;
  ingest: { connections: number; durationS: number };
  e2e: { jobs: number; concurrency: number; batchSize: number; batchConcurrency: number };
  openLoop: { rate: number; durationS: number };
  scaleOut: { jobs: number; sleepMs: number; runnerCounts: number[] };
  steady: { jobs: number; checkpoints: number[]; gets: number; lists: number };
}

const FULL: Omit<BenchOptions, "quick" | "scenarios" | "baseline" | "cpuProfDir"> = {
  runs: 3,
  concurrency: 8,
  ingest: { connections: 64, durationS: 10 },
  e2e: { jobs: 20_000, concurrency: 64, batchSize: 1000, batchConcurrency: 4 },
  openLoop: { rate: 500, durationS: 10 },
  scaleOut: { jobs: 2000, sleepMs: 50, runnerCounts: [1, 2, 4] },
  steady: { jobs: 100_000, checkpoints: [20_000, 100_000], gets: 2000, lists: 200 },
};

const QUICK: typeof FULL = {
  runs: 1,
  concurrency: 8,
  ingest: { connections: 64, durationS: 2 },
  e2e: { jobs: 1000, concurrency: 64, batchSize: 500, batchConcurrency: 2 },
  openLoop: { rate: 500, durationS: 2 },
  scaleOut: { jobs: 200, sleepMs: 50, runnerCounts: [1, 2, 4] },
  steady: { jobs: 5000, checkpoints: [2000, 5000], gets: 200, lists: 20 },
};

export const USAGE = `usage: pnpm bench [-- options]
  --quick              small numbers, one run each (a smoke test, under a minute)
  --only=a,b           run only these scenarios: ${SCENARIOS.join(", ")}
  --runs=N             runs per scenario and system (default 3; the table shows the median)
  --concurrency=N      RUNNER_CONCURRENCY of every runner and concurrency of every BullMQ worker (default 8)
  --no-baseline        skip BullMQ
  --cpu-prof=DIR       our services write V8 CPU profiles into DIR when they stop`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const args = argv.filter((a) => a !== "--");
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ["--quick", "--no-baseline", "--help"];
  const unknown = args.filter((a) => !known.includes(a) && !/^--(only|runs|concurrency|cpu-prof)=/.test(a));
  if (unknown.length > 0 || args.includes("--help")) throw new Error(`${unknown.length > 0 ? `unknown option ${unknown.join(" ")}\n` : ""}${USAGE}`);

  const quick = args.includes("--quick");
  const numbers = quick ? QUICK : FULL;
  const only = value("only")?.split(",").filter(Boolean);
  const bad = only?.filter((s) => !(SCENARIOS as readonly string[]).includes(s)) ?? [];
  if (bad.length > 0) throw new Error(`unknown scenario ${bad.join(", ")}; known: ${SCENARIOS.join(", ")}`);
  const runs = value("runs") === undefined ? numbers.runs : Number(value("runs"));
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const concurrency = value("concurrency") === undefined ? numbers.concurrency : Number(value("concurrency"));
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new Error("--concurrency must be an integer 1..1000");
  return {
    ...numbers,
    quick,
    runs,
    concurrency,
    scenarios: only ? SCENARIOS.filter((s) => only.includes(s)) : [...SCENARIOS],
    baseline: !args.includes("--no-baseline"),
    cpuProfDir: value("cpu-prof"),
  };
}
