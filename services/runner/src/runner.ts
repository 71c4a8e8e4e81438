import { setMaxListeners } from "node:events";
import type { JobNames } from "@jobs/core";
import { EventLog, jetstream, jetstreamManager, type NatsConnection } from "@jobs/nats";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";
import { fetchLoop } from "./fetch-loop.ts";
import { handleJob } from "./handle-job.ts";
import type { JobType } from "./job-type.ts";
import { jobTypeRegistry } from "./load-job-types.ts";
import { Slots } from "./slots.ts";

export interface RunnerDeps {
  nc: NatsConnection;
  names: JobNames;
  log: Logger;
  jobTypes: readonly JobType[];
  runnerId: string;
  /** Jobs run at once; also the most messages ever pulled and not yet started. */
  concurrency: number;
  /** How long `stop()` lets running jobs finish before interrupting them. */
  shutdownGraceMs: number;
  /** How long one pull waits for messages (also bounds how long `stop()` waits for the last pull). */
  fetchExpiresMs?: number;
  heartbeatMs?: number;
  progressIntervalMs?: number;
}

export interface Runner {
  readonly runnerId: string;
  /** Jobs running now. */
  readonly busy: number;
  /**
   * Graceful stop: no more pulls, running jobs get `shutdownGraceMs` to finish, then
   * they are interrupted and handed back (nak) so another runner takes them at once.
   * Resolves when every job is settled; the caller drains the connection.
   */
  stop(): Promise<void>;
}

/**
 * Jobs this short (slot held, round trips included, on average) are fetched ahead: the
 * pull's round trip would otherwise be a large share of each job. Longer ones are not:
 * a job parked behind a long one in a busy runner could have run in an idle one.
 */
const SHORT_JOB_MS = 100;
/** The longest a job fetched ahead waits for a slot before it is handed back. */
const MAX_AHEAD_WAIT_MS = 1_000;

/** Starts consuming the shared runner consumer (the stream and consumer must exist). */
export async function startRunner(deps: RunnerDeps): Promise<Runner> {
  const js = jetstream(deps.nc);
  const events = new EventLog(js, await jetstreamManager(deps.nc), deps.names);
  const registry = jobTypeRegistry(deps.jobTypes);
  const slots = new Slots(deps.concurrency);
  const stopping = new AbortController();
  const hardStop = new AbortController();
  // Every running job listens to hardStop (and to it again while retrying a publish).
  setMaxListeners(2 * deps.concurrency + 10, hardStop.signal);
  const log = deps.log.child({ runner: deps.runnerId });

  const handlerDeps = {
    events,
    nc: deps.nc,
    names: deps.names,
    registry,
    runnerId: deps.runnerId,
    log,
    hardStop: hardStop.signal,
    heartbeatMs: deps.heartbeatMs ?? 10_000,
    progressIntervalMs: deps.progressIntervalMs ?? 200,
  };
  const loop = fetchLoop({
    js,
    names: deps.names,
    slots,
    log,
    expiresMs: deps.fetchExpiresMs ?? 5_000,
    stopping: stopping.signal,
    ahead: {
      limit: deps.concurrency,
      shortJobMs: SHORT_JOB_MS,
      maxWaitMs: Math.min(MAX_AHEAD_WAIT_MS, handlerDeps.heartbeatMs),
    },
    onMessage: (msg) => slots.run(() => handleJob(msg, handlerDeps)),
  });
  log.info({ concurrency: deps.concurrency, jobTypes: [...registry.keys()] }, "runner started");

  const stop = gracefulStop({ slots, stopping, hardStop, loop, log, graceMs: deps.shutdownGraceMs });
  return {
    runnerId: deps.runnerId,
    get busy() {
      return slots.busy;
    },
    stop,
  };
}

/** Runner.stop(): no more pulls, the grace period for running jobs, then interrupt them; once, however often it is called. */
function gracefulStop(r: { slots: Slots; stopping: AbortController; hardStop: AbortController; loop: Promise<void>; log: Logger; graceMs: number }): () => Promise<void> {
  let stopped: Promise<void> | null = null;
  return () => {
    stopped ??= (async () => {
      r.stopping.abort();
      r.log.info({ running: r.slots.busy, graceMs: r.graceMs }, "runner stopping: no new jobs");
      const graceOver = new AbortController();
      const finished = r.slots.idle().then(() => graceOver.abort());
      await sleep(r.graceMs, graceOver.signal);
      if (r.slots.busy > 0) r.log.warn({ running: r.slots.busy }, "grace period over: interrupting running jobs");
      r.hardStop.abort();
      await Promise.all([finished, r.loop]);
      r.log.info("runner stopped");
    })();
    return stopped;
  };
}
