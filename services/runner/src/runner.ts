import { setMaxListeners } from "node:events";
import { PRIORITIES, type JobNames } from "@jobs/core";
import {
  DispatchLog,
  ensureDispatch,
  EventLog,
  jetstream,
  jetstreamManager,
  openViewBucket,
  ViewStore,
  type NatsConnection,
} from "@jobs/nats";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";
import { consumeEach } from "./consume-each.ts";
import { repairDispatchIfLost } from "./dispatch-repair.ts";
import { expireJob } from "./expire-job.ts";
import { fetchLoop } from "./fetch-loop.ts";
import { jobSources } from "./job-sources.ts";
import { routeRequest } from "./route-request.ts";
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
  /** As provisioned (JOBS_REPLICAS, RUNNER_ACK_WAIT_MS): what the dispatch stream is created again with if it was deleted. */
  replicas?: number;
  ackWaitMs?: number;
  /** How often the runner checks that the dispatch stream still holds its marker (a purge or loss calls for a repair). */
  dispatchCheckMs?: number;
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
  const jsm = await jetstreamManager(deps.nc);
  const events = new EventLog(js, jsm, deps.names);
  const dispatch = new DispatchLog(js, jsm, deps.names);
  const views = new ViewStore(await openViewBucket(deps.nc, deps.names));
  const registry = jobTypeRegistry(deps.jobTypes);
  const slots = new Slots(deps.concurrency);
  const stopping = new AbortController();
  const hardStop = new AbortController();
  // Every running job listens to hardStop (and to it again while retrying a publish).
  setMaxListeners(2 * deps.concurrency + 10, hardStop.signal);
  const log = deps.log.child({ runner: deps.runnerId });

  const handlerDeps = {
    events,
    dispatch,
    nc: deps.nc,
    names: deps.names,
    registry,
    runnerId: deps.runnerId,
    log,
    hardStop: hardStop.signal,
    heartbeatMs: deps.heartbeatMs ?? 10_000,
    progressIntervalMs: deps.progressIntervalMs ?? 200,
  };
  const jobs = fetchLoop({
    js,
    sources: jobSources(deps.names),
    slots,
    log,
    expiresMs: deps.fetchExpiresMs ?? 5_000,
    stopping: stopping.signal,
    ahead: {
      limit: deps.concurrency,
      shortJobMs: SHORT_JOB_MS,
      maxWaitMs: Math.min(MAX_AHEAD_WAIT_MS, handlerDeps.heartbeatMs),
    },
    onMessage: (msg, source) => slots.run(() => handleJob(msg, source.priority, handlerDeps)),
  });
  const chores = { js, stopping: stopping.signal, batch: 64, expiresMs: deps.fetchExpiresMs ?? 5_000 };
  // One loop per priority: a burst of low jobs to route never holds up a high one.
  const routing = PRIORITIES.map((priority) =>
    consumeEach({
      ...chores,
      stream: deps.names.stream,
      consumer: deps.names.routingConsumer(priority),
      log: log.child({ chore: `routing-${priority}` }),
      handle: (msg) => routeRequest(msg, { dispatch, log }),
    }),
  );
  const expiry = consumeEach({
    ...chores,
    stream: deps.names.dispatchStream,
    consumer: deps.names.expiryConsumer,
    log: log.child({ chore: "expiry" }),
    handle: (msg) => expireJob(msg, { events, dispatch, log }),
  });
  const reprovision = () => ensureDispatch(jsm, deps.names, { replicas: deps.replicas, ackWaitMs: deps.ackWaitMs });
  const repair = keepDispatchComplete(
    { js, jsm, names: deps.names, events, views, dispatch, log, reprovision, stopping: stopping.signal },
    deps.dispatchCheckMs ?? 10_000,
    stopping.signal,
  );
  const loop = Promise.all([jobs, ...routing, expiry, repair]).then(() => undefined);
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

/**
 * Checks at start and every `everyMs` that the dispatch stream is complete, and repairs
 * it from the event stream when it is not (dispatch-repair.ts). A failed check is tried
 * again at the next one. Never rejects.
 */
async function keepDispatchComplete(deps: Parameters<typeof repairDispatchIfLost>[0], everyMs: number, stopping: AbortSignal): Promise<void> {
  while (!stopping.aborted) {
    try {
      await repairDispatchIfLost(deps);
    } catch (err) {
      deps.log.warn({ err }, "checking the dispatch stream failed; trying again later");
    }
    await sleep(everyMs, stopping);
  }
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
