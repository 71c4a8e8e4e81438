import { expect } from "vitest";
import { decodeEvent, type JobNames, type StoredEvent } from "@jobs/core";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventLog } from "@jobs/nats";

/**
 * What the stream itself says happened, read by the test straight from JetStream (the
 * source of truth), not through the services under test.
 */

/** Every event of one job, in stream order. */
export async function jobHistory(nc: NatsConnection, names: JobNames, jobId: string): Promise<StoredEvent[]> {
  return new EventLog(jetstream(nc), await jetstreamManager(nc), names).read(jobId);
}

/** Every event in the stream up to its last sequence now, grouped by job, in stream order. */
export async function allJobHistories(nc: NatsConnection, names: JobNames): Promise<Map<string, StoredEvent[]>> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(names.stream);
  const byJob = new Map<string, StoredEvent[]>();
  if (state.messages === 0) return byJob;
  const consumer = await jetstream(nc).consumers.get(names.stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 2_000 });
  // A scan that stops receiving has lost the server: fail instead of hanging the test.
  const stall = setTimeout(() => messages.stop(new Error(`stream scan did not reach seq ${state.last_seq}`)), 30_000);
  try {
    for await (const m of messages) {
      const event = decodeEvent(m.data);
      const list = byJob.get(event.jobId) ?? [];
      list.push({ seq: m.seq, event });
      byJob.set(event.jobId, list);
      if (m.seq >= state.last_seq) break;
    }
  } finally {
    clearTimeout(stall);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  return byJob;
}

/** The histories of `ids` from one scan of the stream; a job the stream does not hold has an empty one. */
export async function historiesOf(nc: NatsConnection, names: JobNames, ids: Iterable<string>): Promise<Map<string, StoredEvent[]>> {
  const all = await allJobHistories(nc, names);
  return new Map([...ids].map((id) => [id, all.get(id) ?? []]));
}

/** One JobStarted: which attempt, on which runner, at which stream sequence. */
export interface Start {
  seq: number;
  attempt: number;
  runner: string;
}

/** The JobStarted events of a history: which attempt, on which runner. */
export function startsOf(history: readonly StoredEvent[]): Start[] {
  return history.flatMap(({ seq, event }) => (event.type === "JobStarted" ? [{ seq, attempt: event.data.attempt, runner: event.data.runner }] : []));
}

/**
 * The JobFinished of a history, undefined while the job has not ended. Throws when the
 * history holds two: the outcome is recorded once, and a reader that took the first one
 * (as `evolve` does) would hide the second.
 */
export function finishOf(history: readonly StoredEvent[]) {
  const finishes = history.filter((e) => e.event.type === "JobFinished");
  if (finishes.length > 1) throw new Error(`${finishes.length} JobFinished in one job's history: ${describeHistory(history)}`);
  const only = finishes[0]?.event;
  return only?.type === "JobFinished" ? only.data : undefined;
}

/**
 * Attempts that started and stored no outcome of their own (no JobAttemptFailed and no
 * JobFinished of that attempt number): the job was run again, or a second runner ran it
 * while the first still did. The stream alone cannot tell why; only a fault the test
 * caused can explain one.
 */
export interface LostAttempts {
  /** The fault, said for the failure message ("started by a runner the test SIGKILLed"). */
  fault: string;
  /** Whether the fault explains that this start (of job `jobId`) stored no outcome. */
  explains(start: Start, jobId: string): boolean;
  /** How many such attempts one job may have at most, and the fault's reason for that number. */
  maxPerJob: number;
}

/**
 * "The outcome is recorded once", checked on the stream itself (not on views, which fold
 * the first JobFinished and ignore the rest): for every job of `histories`
 *
 * - exactly one JobFinished;
 * - its JobStarted attempts are 1, 2, ..., n in stream order, each attempt started once;
 * - nothing starts after the JobFinished, which names the last started attempt or an
 *   earlier one (first outcome wins), or 0 when none started;
 * - each attempt failed (JobAttemptFailed) at most once;
 * - every started attempt stored its own outcome (a JobAttemptFailed: a retry or a
 *   shutdown's hand-back; or the JobFinished), unless `lost` says the test's fault
 *   explains it, and then no more than `lost.maxPerJob` of them.
 *
 * Every broken job is listed in one failure, with its events.
 */
export function expectOneEndingEach(histories: ReadonlyMap<string, readonly StoredEvent[]>, opts: { lost?: LostAttempts } = {}): void {
  const problems: string[] = [];
  for (const [jobId, history] of histories) {
    const found = endingProblems(history, opts.lost, jobId);
    if (found.length > 0) problems.push(`${jobId}: ${found.join("; ")}\n    ${describeHistory(history)}`);
  }
  expect(problems.length, `${problems.length} of ${histories.size} jobs break "the outcome is recorded once":\n${problems.join("\n")}\n`).toBe(0);
}

function endingProblems(history: readonly StoredEvent[], lost: LostAttempts | undefined, jobId: string): string[] {
  const problems: string[] = [];
  const finishes = history.filter((e) => e.event.type === "JobFinished");
  if (finishes.length !== 1) problems.push(`${finishes.length} JobFinished, not 1`);
  const starts = startsOf(history);
  const attempts = starts.map((s) => s.attempt);
  if (attempts.some((a, i) => a !== i + 1)) problems.push(`JobStarted attempts ${JSON.stringify(attempts)}, not 1..${starts.length} each once`);
  const finish = finishes[0];
  if (finish?.event.type === "JobFinished") {
    const after = starts.filter((s) => s.seq > finish.seq);
    if (after.length > 0) problems.push(`attempt ${after.map((s) => s.attempt).join(", ")} started after the JobFinished`);
    const { attempt } = finish.event.data;
    if (starts.length === 0 ? attempt !== 0 : !attempts.includes(attempt)) problems.push(`the JobFinished names attempt ${attempt}, which never started`);
  }
  const failedAttempts = history.flatMap(({ event }) => (event.type === "JobAttemptFailed" ? [event.data.attempt] : []));
  const failedTwice = failedAttempts.filter((a, i) => failedAttempts.indexOf(a) !== i);
  if (failedTwice.length > 0) problems.push(`attempt ${[...new Set(failedTwice)].join(", ")} failed more than once`);
  const ended = new Set(history.flatMap(({ event }) => (event.type === "JobAttemptFailed" || event.type === "JobFinished" ? [event.data.attempt] : [])));
  const unended = starts.filter((s) => !ended.has(s.attempt));
  const unexplained = unended.filter((s) => !lost?.explains(s, jobId));
  if (unexplained.length > 0) {
    const why = lost ? `not explained by the test's fault (${lost.fault})` : "and the test caused no fault that explains one";
    problems.push(`attempt ${unexplained.map((s) => `${s.attempt} (runner ${s.runner})`).join(", ")} stored no outcome, ${why}`);
  }
  if (lost && unended.length > lost.maxPerJob) problems.push(`${unended.length} attempts stored no outcome; ${lost.fault} explains at most ${lost.maxPerJob}`);
  return problems;
}

/** How many of the jobs started more than one attempt (for a fault test's log). */
export function ranTwice(histories: ReadonlyMap<string, readonly StoredEvent[]>): number {
  return [...histories.values()].filter((h) => startsOf(h).length > 1).length;
}

/** A history in one line: `seq:type(attempt, runner or outcome)`. */
export function describeHistory(history: readonly StoredEvent[]): string {
  return history
    .map(({ seq, event }) => {
      const d = event.data as { attempt?: number; runner?: string; outcome?: string; error?: { code: string } };
      const detail = [d.attempt, d.runner ?? d.outcome ?? d.error?.code].filter((x) => x !== undefined).join(", ");
      return `${seq}:${event.type}${detail ? `(${detail})` : ""}`;
    })
    .join(" ");
}
