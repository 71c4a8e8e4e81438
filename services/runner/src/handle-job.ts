import { attemptProgress, decideDelivery, decodeEvent, priorityOf, type DeliveryContext, type JobNames, type JobPriority, type JobRequested } from "@jobs/core";
import { decodeDispatch, EventConflictError, newDispatch, type Dispatch, type DispatchLog, type EventLog, type JobState, type NatsConnection } from "@jobs/nats";
import type { Logger } from "pino";
import { watchForFinish } from "./finish-watch.ts";
import type { JobType } from "./job-type.ts";
import { JobWriter } from "./job-writer.ts";
import type { JsMsg } from "./nats-types.ts";
import { checkParams } from "./params-check.ts";
import { ProgressReporter } from "./progress-reporter.ts";
import { AttemptAborted, runAttempt } from "./run-attempt.ts";
import { ack, conclude, settleAttempt } from "./settle-attempt.ts";

/** The least a job that is not due waits again (see "wait" below). */
const MIN_REWAIT_MS = 100;

export interface HandleJobDeps {
  events: EventLog;
  dispatch: DispatchLog;
  /** Aborts when the shutdown grace is over: running attempts are interrupted, publish retries give up. */
  hardStop: AbortSignal;
  nc: NatsConnection;
  names: JobNames;
  registry: ReadonlyMap<string, JobType>;
  runnerId: string;
  log: Logger;
  /** How often `working()` keeps the claim alive (well inside the consumer's ack_wait, RUNNER_ACK_WAIT_MS). */
  heartbeatMs: number;
  progressIntervalMs: number;
}

/**
 * Handles one delivery, from decoding to ack/nak. Never rejects. `readyQueue`: the
 * priority of the dispatch stream's ready queue it came from (a dispatch, `{jobId,
 * attempt, token}`); null: a JobRequested from the runners' consumer of the event stream.
 */
export async function handleJob(received: JsMsg, readyQueue: JobPriority | null, deps: HandleJobDeps): Promise<void> {
  const delivery = decodeDelivery(received, readyQueue !== null);
  if (delivery === null) {
    deps.log.error({ subject: received.subject, seq: received.seq }, "undecodable job delivery; terminating it");
    return received.term();
  }
  const msg = delivery.dispatch && readyQueue !== null ? handedBackByRepublishing(received, () => deps.dispatch.ready(readyQueue, delivery.dispatch!, { handBack: true })) : received;
  const heartbeat = setInterval(() => msg.working(), deps.heartbeatMs);
  try {
    await decideAndRun(msg, delivery, deps);
  } catch (err) {
    // Unexpected (a bug or a lost connection mid-way): hand the job back rather than crash.
    deps.log.error({ err, jobId: delivery.jobId }, "job handling failed; handing the job back");
    msg.nak(1_000);
  } finally {
    clearInterval(heartbeat);
  }
}

/** A delivery, and its source (see DeliveryContext): the dispatch's token, or the request's stream and sequence. */
type Delivery = { jobId: string; source: string; request: JobRequested; dispatch?: undefined } | { jobId: string; source: string; request?: undefined; dispatch: Dispatch };

function decodeDelivery(msg: JsMsg, fromReadyQueue: boolean): Delivery | null {
  if (fromReadyQueue) {
    const d = decodeDispatch(msg.data);
    return d === null ? null : { jobId: d.jobId, source: d.token, dispatch: d };
  }
  try {
    const event = decodeEvent(msg.data);
    return event.type === "JobRequested" ? { jobId: event.jobId, source: `${msg.info.stream}:${msg.seq}`, request: event } : null;
  } catch {
    return null;
  }
}

/**
 * A ready queue's message whose immediate hand-back (`nak()`: a shutdown interrupted the
 * attempt, a write gave up) puts its dispatch back in the queue and acks it, rather than
 * naks it: the dispatch stream may have been purged while the job ran, and a nak of a
 * purged message brings nothing back. The dispatch keeps its token, so it still owns the
 * attempt. Delayed hand-backs (before any start) stay naks: a repair restores what a purge
 * took from a job that is not running.
 */
function handedBackByRepublishing(msg: JsMsg, republish: () => Promise<void>): JsMsg {
  const handBack = (delay?: number) => {
    if (delay !== undefined && delay > 0) return msg.nak(delay);
    void republish().then(
      () => msg.ack(),
      () => msg.nak(),
    );
  };
  return new Proxy(msg, {
    get(target, prop) {
      if (prop === "nak") return handBack;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * What decideDelivery says, done. A first delivery of a request reads nothing: the job
 * has no event after its request yet (the conditional JobStarted checks that). A
 * redelivery (crashed runner, lost ack) and every dispatch read the job's events first.
 */
async function decideAndRun(msg: JsMsg, delivery: Delivery, deps: HandleJobDeps): Promise<void> {
  const { jobId } = delivery;
  const firstDelivery = delivery.request !== undefined && msg.info.deliveryCount === 1;
  const state: JobState = firstDelivery ? { events: [{ seq: msg.seq, event: delivery.request }], lastEventSeq: 0 } : await deps.events.readForUpdate(jobId);
  const request = state.events.find((e) => e.event.type === "JobRequested")?.event as JobRequested | undefined;
  if (request === undefined) {
    deps.log.error({ jobId, subject: msg.subject }, "a dispatch of a job that has no request; terminating it");
    return msg.term();
  }
  const { jobType } = request.data;
  const type = deps.registry.get(jobType);
  const ctx: DeliveryContext = { runnerId: deps.runnerId, checkParams: type ? (params) => checkParams(type, params) : null, source: delivery.source };
  if (delivery.dispatch) ctx.attempt = delivery.dispatch.attempt;
  const decision = decideDelivery(state.events, new Date(), ctx);
  deps.log.debug({ jobId, decision: decision.kind, source: ctx.source, attempt: ctx.attempt, deliveries: msg.info.deliveryCount }, "delivery decided");
  // One child logger per job, made once its attempt is known: pino serialises a child's
  // bindings when it is made, whatever the level.
  switch (decision.kind) {
    case "ended":
      deps.log.child({ jobId, jobType }).info({ status: decision.status }, "job already ended; skipping the redelivery");
      return ack(msg, deps.log);
    case "duplicate":
      deps.log.debug({ jobId, source: ctx.source }, "another delivery of the job owns its attempt; dropped");
      return ack(msg, deps.log);
    case "wait": {
      // The server holds it from here: the ready queue gets it back at that time. Never
      // sooner than a moment from now: a runner whose clock is behind the server's would
      // otherwise see each firing as early and make it again at once, in a tight loop.
      const until = new Date(Math.max(decision.until.getTime(), Date.now() + MIN_REWAIT_MS));
      await deps.dispatch.waitUntil(priorityOf(request), newDispatch(jobId, decision.attempt), until);
      deps.log.debug({ jobId, until }, "not due yet; waiting on the server");
      return ack(msg, deps.log);
    }
    case "expire": {
      const log = deps.log.child({ jobId, jobType });
      const writer = new JobWriter(deps.events, jobId, state, { giveUp: deps.hardStop, log });
      return conclude(msg, await writer.settle(decision.append), log, "job expired: not started by its startBy");
    }
    case "unknown-type":
      deps.log.warn({ jobId, jobType }, "unknown job type (another runner version may know it); handing it back");
      return msg.nak(decision.delayMs);
    case "fail": {
      const log = deps.log.child({ jobId, jobType, attempt: decision.append.event.data.attempt });
      log.warn({ error: decision.append.event.data.error }, "job failed");
      const writer = new JobWriter(deps.events, jobId, state, { giveUp: deps.hardStop, log });
      return conclude(msg, await writer.settle(decision.append), log, "");
    }
    case "start": {
      const log = deps.log.child({ jobId, jobType, attempt: decision.attempt });
      const writer = new JobWriter(deps.events, jobId, state, { giveUp: deps.hardStop, log, onRetry: () => msg.working() });
      return runStarted(msg, request, { type: type!, writer, log, attempt: decision.attempt, lastAttempt: decision.lastAttempt, start: decision.append }, deps);
    }
  }
}

interface StartedAttempt {
  type: JobType;
  writer: JobWriter;
  log: Logger;
  attempt: number;
  lastAttempt: number;
  start: Parameters<JobWriter["start"]>[0];
}

/** Stores the JobStarted, runs the attempt, and settles it. */
async function runStarted(msg: JsMsg, request: JobRequested, a: StartedAttempt, deps: HandleJobDeps): Promise<void> {
  const { jobId } = request;
  const { writer, log, attempt } = a;
  const interrupt = new AbortController();
  let watch: { stop(): void } | null = null;
  const onHardStop = () => interrupt.abort(new AttemptAborted("shutdown", "the runner is shutting down"));
  deps.hardStop.addEventListener("abort", onHardStop, { once: true });
  try {
    // Stored only if nothing happened to the job since we looked (a cancel, another
    // runner's start): the start can never land after a cancel.
    let startedSeq: number | null;
    try {
      startedSeq = await writer.start(a.start);
    } catch (err) {
      if (!(err instanceof EventConflictError)) throw err;
      log.info("the job changed before it started (cancelled, or taken by another runner); re-checking it");
      return msg.nak(500); // the redelivery reads the stream and decides again
    }
    if (startedSeq === null) return msg.nak();
    log.info("attempt started");
    // Listens for a cancel only if the attempt is still running a moment later (and then
    // checks what was stored meanwhile): short jobs pay no subscribe/unsubscribe.
    watch = watchForFinish(deps.nc, deps.names, jobId, () => interrupt.abort(new AttemptAborted("finished", "the job was ended elsewhere")), {
      lastEvent: () => deps.events.lastEvent(jobId),
      log,
    });
    const reporter = new ProgressReporter(
      (percent, message, n) => writer.tryOnce(attemptProgress({ jobId, attempt }, n, percent, message, new Date())),
      deps.progressIntervalMs,
    );
    const { timeoutMs, params } = request.data;
    const outcome = await runAttempt({ type: a.type, params, jobId, attempt, timeoutMs, controller: interrupt, log, progress: (p, m) => reporter.report(p, m) });
    watch.stop(); // before our own JobFinished, which the watch would hear
    await reporter.close(); // progress lands before the finish
    const retryLater = (next: number, until: Date) => deps.dispatch.waitUntil(priorityOf(request), newDispatch(jobId, next), until);
    await settleAttempt(msg, { jobId, attempt, lastAttempt: a.lastAttempt }, outcome, { writer, log, retryLater });
  } finally {
    watch?.stop();
    deps.hardStop.removeEventListener("abort", onHardStop);
  }
}
