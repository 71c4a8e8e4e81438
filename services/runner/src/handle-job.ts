import { decodeEvent, foldEvents, isFinal, type JobNames, type JobRequested, type StoredEvent } from "@jobs/core";
import { EventConflictError, lastEventSeq, type EventLog, type NatsConnection } from "@jobs/nats";
import type { Logger } from "pino";
import { watchForFinish } from "./finish-watch.ts";
import { failed, progressed, started } from "./job-events.ts";
import type { JobType } from "./job-type.ts";
import { JobWriter } from "./job-writer.ts";
import type { JsMsg } from "./nats-types.ts";
import { checkParams } from "./params-check.ts";
import { ProgressReporter } from "./progress-reporter.ts";
import { AttemptAborted, runAttempt } from "./run-attempt.ts";
import { ack, conclude, INTERRUPTED, settleAttempt } from "./settle-attempt.ts";

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
    await claimAndRun(msg, request, deps);
  } catch (err) {
    // Unexpected (a bug or a lost connection mid-way): hand the job back rather than crash.
    deps.log.error({ err, jobId: request.jobId, jobType: request.data.jobType }, "job handling failed; handing the job back");
    msg.nak(1_000);
  } finally {
    clearInterval(heartbeat);
  }
}

async function claimAndRun(msg: JsMsg, request: JobRequested, deps: HandleJobDeps): Promise<void> {
  const { jobId } = request;
  const { jobType, timeoutMs, runAt, params } = request.data;
  // One child logger per job, made once its attempt is known: pino serialises a child's
  // bindings when it is made, whatever the level (two per job were 4% of a runner's CPU).
  const jobLog = (attempt: number): Logger => deps.log.child({ jobId, jobType, attempt });
  // The number of the job's last attempt. An attempt that a graceful shutdown interrupted
  // is not the job's failure (a deploy must not use up its attempts): each one extends
  // the budget by one. A crash does count: it may well be the job's own doing.
  let lastAttempt = request.data.maxAttempts;

  // The attempt number. A first delivery is attempt 1 without any read: the job has no
  // event after its request yet (the conditional JobStarted below checks that). A
  // redelivery (retry, delayed start, crashed runner, lost ack) asks the stream.
  let attempt = 1;
  let lastSeq = 0;
  if (msg.info.deliveryCount > 1) {
    const stored = await deps.events.read(jobId);
    const view = foldEvents(stored);
    lastSeq = lastEventSeq(stored);
    if (view !== null && isFinal(view.status)) {
      const log = deps.log.child({ jobId, jobType });
      log.info({ status: view.status }, "job already ended; skipping the redelivery");
      return ack(msg, log);
    }
    attempt = (view?.attempts ?? 0) + 1;
    lastAttempt += interruptedAttempts(stored);
    if (attempt > lastAttempt) {
      const log = jobLog(attempt - 1);
      const error = { code: "attempts_exhausted", message: `attempt ${attempt - 1} ended without a result (its runner stopped) and no attempts are left` };
      log.warn({ error }, "job failed");
      const writer = new JobWriter(deps.events, jobId, lastSeq, { giveUp: deps.hardStop, log });
      return conclude(msg, await writer.settle(failed(jobId, attempt - 1, error)), log, "");
    }
  }
  const log = jobLog(attempt);
  const writer = new JobWriter(deps.events, jobId, lastSeq, { giveUp: deps.hardStop, log, onRetry: () => msg.working() });

  const startAt = runAt === null ? 0 : Date.parse(runAt);
  if (startAt > Date.now()) {
    log.debug({ runAt }, "not due yet");
    // At most a day at a time: the server reads the delay in nanoseconds, and a runAt
    // centuries ahead overflowed it into an immediate redelivery, spinning forever.
    return msg.nak(Math.min(Math.ceil(startAt - Date.now()), MAX_NAK_DELAY_MS));
  }

  const type = deps.registry.get(jobType);
  if (type === undefined) {
    log.warn("unknown job type (another runner version may know it); handing it back");
    return msg.nak(5_000);
  }

  const problems = checkParams(type, params);
  if (problems !== null) {
    const error = { code: "invalid_params", message: problems.join("; ") };
    log.warn({ error }, "job failed");
    // No attempt started: the finish names the last attempt that did.
    return conclude(msg, await writer.settle(failed(jobId, attempt - 1, error)), log, "");
  }

  const interrupt = new AbortController();
  let watch: { stop(): void } | null = null;
  const onHardStop = () => interrupt.abort(new AttemptAborted("shutdown", "the runner is shutting down"));
  deps.hardStop.addEventListener("abort", onHardStop, { once: true });
  try {
    // Stored only if nothing happened to the job since we looked (a cancel, another
    // runner's start): the start can never land after a cancel.
    let startedSeq: number | null;
    try {
      startedSeq = await writer.start(started(jobId, attempt, deps.runnerId));
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
      (percent, message, n) => writer.tryOnce(progressed(jobId, attempt, n, percent, message)),
      deps.progressIntervalMs,
    );
    const outcome = await runAttempt({ type, params, jobId, attempt, timeoutMs, controller: interrupt, log, progress: (p, m) => reporter.report(p, m) });
    watch.stop(); // before our own JobFinished, which the watch would hear
    await reporter.close(); // progress lands before the finish
    await settleAttempt(msg, { jobId, attempt, lastAttempt }, outcome, writer, log);
  } finally {
    watch?.stop();
    deps.hardStop.removeEventListener("abort", onHardStop);
  }
}

/** The longest a not-yet-due job is handed back for before it is looked at again. */
const MAX_NAK_DELAY_MS = 86_400_000;

/** Attempts that a runner's graceful shutdown ended (JobAttemptFailed with code `interrupted`). */
export function interruptedAttempts(events: readonly StoredEvent[]): number {
  return events.filter((e) => e.event.type === "JobAttemptFailed" && e.event.data.error.code === INTERRUPTED).length;
}
