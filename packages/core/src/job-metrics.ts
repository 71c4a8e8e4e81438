import { Type, type Static } from "typebox";
import { Compile } from "typebox/compile";
import { isFinal, type JobView } from "./job.ts";
import { parseJson } from "./json.ts";

const Count = Type.Integer({ minimum: 1 });

/**
 * What the projector folded in one flush, counted by job type: the service-wide job
 * metrics. Projectors publish one after each flush that folded something (core NATS,
 * names.metricsSubject); every gateway adds them up for GET /metrics. One small message
 * per flush replaces a delivery of every event to every gateway.
 */
export const JobMetricsDelta = Type.Object({
  /** Attempts started, by job type. */
  started: Type.Record(Type.String(), Count),
  /** Attempts that ended without ending their job (to be retried), by job type. */
  attemptsFailed: Type.Record(Type.String(), Count),
  /** Jobs that reached a final status, by job type then outcome. */
  finished: Type.Record(Type.String(), Type.Record(Type.String(), Count)),
  /** Run times in seconds of the jobs that succeeded or failed after starting an attempt (its last attempt's start to the finish), by job type. */
  runSeconds: Type.Record(Type.String(), Type.Array(Type.Number({ minimum: 0 }))),
});
export type JobMetricsDelta = Static<typeof JobMetricsDelta>;

const checkDelta = Compile(JobMetricsDelta);

/** The message a projector publishes. */
export function encodeMetricsDelta(delta: JobMetricsDelta): string {
  return JSON.stringify(delta);
}

/** A delta decoded from its message; throws on anything else. */
export function decodeMetricsDelta(data: Uint8Array): JobMetricsDelta {
  const value = parseJson(data);
  if (!checkDelta.Check(value)) throw new Error("not a job metrics delta");
  return value;
}

/**
 * Counts what the projector's view writes add, from the view each write replaced and the
 * view it wrote. Pure: the projector calls `count` for each view it wrote and `take`
 * after each flush. Writes compare revisions, so the views written of one job form a
 * single chain whichever projector wrote them; counting each step of the chain counts
 * everything once, even when events were folded out of order (a finish before its start,
 * mended later by a resync from the stream). Hence counts of what a view shows, not of
 * events:
 * - started: attempts the job reached (a finish names its attempt even if its start
 *   was not folded yet);
 * - attemptsFailed: attempts that ended without ending the job (failed and retried,
 *   interrupted, or lost with a crashed runner);
 * - finished: the step to a final status, with its outcome;
 * - runSeconds: for a job that succeeded or failed after starting an attempt, its last
 *   attempt's start to the finish (event times), once both are in its view.
 */
export class JobMetricsTally {
  private delta = emptyDelta();
  private empty = true;

  count(base: JobView | null, view: JobView): void {
    const { type } = view;
    const started = view.attempts - (base?.attempts ?? 0);
    if (started > 0) this.add(this.delta.started, type, started);
    const failed = endedAttempts(view) - (base === null ? 0 : endedAttempts(base));
    if (failed > 0) this.add(this.delta.attemptsFailed, type, failed);
    if (isFinal(view.status) && (base === null || !isFinal(base.status))) {
      this.add((this.delta.finished[type] ??= record()), view.status, 1);
    }
    const seconds = runSeconds(view);
    if (seconds !== null && (base === null || runSeconds(base) === null)) {
      (this.delta.runSeconds[type] ??= []).push(seconds);
      this.empty = false; // add() says so for the counts
    }
  }

  /** What was counted since the last call, or null if nothing; starts a new tally. */
  take(): JobMetricsDelta | null {
    if (this.empty) return null;
    const delta = this.delta;
    this.delta = emptyDelta();
    this.empty = true;
    return delta;
  }

  private add(counts: Record<string, number>, key: string, n: number): void {
    counts[key] = (counts[key] ?? 0) + n;
    this.empty = false;
  }
}

/**
 * The run time of a job that succeeded or failed after starting an attempt: from its
 * last attempt's start to its finish. Null before that is known: counted on the write
 * where it first is (the finishing write, or the later one that folds a start the
 * finishing write had not seen yet).
 */
function runSeconds(view: JobView): number | null {
  if (view.status !== "succeeded" && view.status !== "failed") return null;
  if (view.startedAt === null || view.finishedAt === null) return null;
  return Math.max(0, Date.parse(view.finishedAt) - Date.parse(view.startedAt)) / 1000;
}

/**
 * Attempts of the job that ended without ending it: all of its attempts but the one
 * running or ending it now; all of them while it waits for a retry.
 */
function endedAttempts(view: JobView): number {
  return view.status === "queued" ? view.attempts : Math.max(0, view.attempts - 1);
}

// Keyed by job type: no prototype, so that a type named like an Object member ("constructor") is just a key.
const record = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

function emptyDelta(): JobMetricsDelta {
  return { started: record(), attemptsFailed: record(), finished: record(), runSeconds: record() };
}

