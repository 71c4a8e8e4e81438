import { attemptProgress, decideDelivery, decodeEvent, type JobNames, type JobRequested } from "@jobs/core";
import { EventConflictError, type EventLog, type JobState, type NatsConnection } from "@jobs/nats";
import type { Logger } from "pino";
import { watchForFinish } from "./finish-watch.ts";
import type { JobType } from "./job-type.ts";
import { JobWriter } from "./job-writer.ts";
import type { JsMsg } from "./nats-types.ts";
import { checkParams } from "./params-check.ts";
import { ProgressReporter } from "./progress-reporter.ts";
import { AttemptAborted, runAttempt } from "./run-attempt.ts";
import { ack, conclude, settleAttempt } from "./settle-attempt.ts";

export interface HandleJobDeps {
  events: EventLog;
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

/** Handles one delivery of a JobRequested, from decoding to ack/nak. Never rejects. */
export async function handleJob(msg: JsMsg, deps: HandleJobDeps): Promise<void> {
  let request: JobRequested;
  try {
    const event = decodeEvent(msg.data);
    if (event.type !== "JobRequested") throw new Error(`expected JobRequested, got ${event.type}`);
    request = event;
  } catch (err) {
    deps.log.error({ err, subject: msg.subject, seq: msg.seq }, "undecodable job request; terminating it");
    return msg.term();
  }
  const heartbeat = setInterval(() => msg.working(), deps.heartbeatMs);
  try {
    await decideAndRun(msg, request, deps);
  } catch (err) {
    // Unexpected (a bug or a lost connection mid-way): hand the job back rather than crash.
    deps.log.error({ err, jobId: request.jobId, jobType: request.data.jobType }, "job handling failed; handing the job back");
    msg.nak(1_000);
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * What decideDelivery says, done. A first delivery reads nothing: the job has no event
 * after its request yet (the conditional JobStarted checks that). A redelivery (retry,
 * delayed start, crashed runner, lost ack) reads the job's events first.
 */
async function decideAndRun(msg: JsMsg, request: JobRequested, deps: HandleJobDeps): Promise<void> {
  const { jobId } = request;
  const { jobType } = request.data;
  const state: JobState = msg.info.deliveryCount > 1 ? await deps.events.readForUpdate(jobId) : { events: [{ seq: msg.seq, event: request }], lastEventSeq: 0 };
  const type = deps.registry.get(jobType);
  const decision = decideDelivery(state.events, new Date(), { runnerId: deps.runnerId, checkParams: type ? (params) => checkParams(type, params) : null });
  // One child logger per job, made once its attempt is known: pino serialises a child's
  // bindings when it is made, whatever the level.
  switch (decision.kind) {
    case "ended":
      deps.log.child({ jobId, jobType }).info({ status: decision.status }, "job already ended; skipping the redelivery");
      return ack(msg, deps.log);
    case "not-due":
      deps.log.debug({ jobId, runAt: request.data.runAt }, "not due yet");
      return msg.nak(decision.delayMs);
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
    await settleAttempt(msg, { jobId, attempt, lastAttempt: a.lastAttempt }, outcome, writer, log);
  } finally {
    watch?.stop();
    deps.hardStop.removeEventListener("abort", onHardStop);
  }
}
