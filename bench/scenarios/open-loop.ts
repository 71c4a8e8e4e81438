import { sleep } from "@jobs/service";
import { alternateRuns, cells, type BenchContext } from "../lib/context.ts";
import { now } from "../lib/clock.ts";
import { CompletionTracker } from "../lib/completion-tracker.ts";
import { HttpClient } from "../lib/http-client.ts";
import type { BenchOptions } from "../lib/options.ts";
import { NOOP_JOB, type SystemUnderTest } from "../lib/system.ts";
import type { Row } from "../lib/table.ts";

interface OpenLoopRun {
  p50: number;
  p99: number;
  /** Jobs per second actually offered (the bench's timer is not exact). */
  offered: number;
}

/**
 * Latency at a fixed load well below capacity: an open loop offers `rate` no-op jobs per
 * second for D seconds (a request goes out on schedule whether or not earlier ones were
 * answered), and each job's time from its 202 to succeeded is recorded.
 */
export async function openLoopScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.openLoop;
  const results = await alternateRuns(ctx, "open loop", (sys) => openLoopRun(sys, o));
  const scenario = `2 open loop, ${o.rate} jobs/s offered for ${o.durationS} s`;
  return [
    { scenario, metric: "jobs/s offered", ...cells(ctx, results, (r) => r.offered) },
    { scenario, metric: "202 -> succeeded p50 (ms)", ...cells(ctx, results, (r) => r.p50), decimals: 1 },
    { scenario, metric: "202 -> succeeded p99 (ms)", ...cells(ctx, results, (r) => r.p99), decimals: 1, target: { text: "< 50 ms", met: (v) => v < 50 } },
  ];
}

export async function openLoopRun(sys: SystemUnderTest, o: BenchOptions["openLoop"]): Promise<OpenLoopRun> {
  const total = Math.round(o.rate * o.durationS);
  const tracker = new CompletionTracker(total);
  const watch = await sys.watchSucceeded(tracker.onSucceeded);
  const client = new HttpClient(sys.baseUrl, sys.token, 256);
  const inFlight: Promise<void>[] = [];
  let failure: Error | null = null;
  const start = now();
  let sent = 0;
  try {
    while (sent < total && failure === null) {
      // However late this tick runs, catch up to where the schedule says we should be.
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * o.rate) + 1);
      for (; sent < due; sent++) {
        inFlight.push(
          client.request("POST", "/job", NOOP_JOB).then((res) => {
            const at = now();
            if (res.status !== 202) failure ??= new Error(`POST /job answered ${res.status}: ${res.body.slice(0, 300)}`);
            else tracker.onAccepted((JSON.parse(res.body) as { id: string }).id, at);
          }),
        );
      }
      await sleep(1);
    }
    const offeredFor = (now() - start) / 1000;
    await Promise.all(inFlight);
    if (failure) throw failure;
    await tracker.waitForAll(60_000 + total * 10);
    return { ...tracker.latencySummary(), offered: total / offeredFor };
  } finally {
    await watch.stop();
    client.close();
  }
}
