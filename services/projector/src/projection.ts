import type { JobView, StoredEvent } from "@jobs/core";
import { isWrongLastSequence } from "@jobs/nats";
import type { IndexApplied, IndexWriter } from "./index-writer.ts";
import { planJob, type JobPlan, type PlanDeps, type Resync } from "./job-plan.ts";
import { mapLimit } from "./map-limit.ts";

/** One job's events of a flush, in stream order. */
export interface JobEvents {
  jobId: string;
  events: readonly StoredEvent[];
}

export type ProjectionOutcome =
  /** `base`: the view that `view` replaced (null: it was created). */
  | { kind: "written"; view: JobView; base: JobView | null; resync: Resync | null }
  | Exclude<JobPlan, { kind: "write" }>
  /** Reading, folding or writing failed, or the job lost too many races: its events go back to the stream. */
  | { kind: "failed"; err: unknown };

export interface ProjectionDeps extends PlanDeps {
  /** The listing index, written before the views. */
  index: Pick<IndexWriter, "apply">;
  /** Jobs read, folded and saved at once. */
  writeConcurrency: number;
}

interface Attempt extends JobEvents {
  /** Races lost so far (someone wrote the view between our read and our save). */
  conflicts: number;
  /** The page an earlier round put the job's entry on. */
  placedOn?: number;
}

type Planned = { job: Attempt; plan: JobPlan | { kind: "failed"; err: unknown } };

/** Races one job may lose in a flush before its events are handed back. */
const MAX_CONFLICTS = 5;

/**
 * Folds, indexes and saves the jobs of one flush, in rounds. A round plans every job
 * (read and fold), records all of the round's index changes at once (one write per
 * changed page), then saves each view where the index put its entry. A job whose save
 * lost a race goes into the next round, which reads its view again: the first try and
 * every retry take this one path.
 */
export async function projectJobs(jobs: readonly JobEvents[], deps: ProjectionDeps): Promise<Map<string, ProjectionOutcome>> {
  const outcomes = new Map<string, ProjectionOutcome>();
  let round: Attempt[] = jobs.map((job) => ({ ...job, conflicts: 0 }));
  while (round.length > 0) round = await projectRound(round, deps, outcomes);
  return outcomes;
}

/** One round; returns the jobs that lost a race and go again. */
async function projectRound(round: readonly Attempt[], deps: ProjectionDeps, outcomes: Map<string, ProjectionOutcome>): Promise<Attempt[]> {
  const planned = await mapLimit(round, deps.writeConcurrency, async (job): Promise<Planned> => {
    const opts = { firstTry: job.conflicts === 0, placedOn: job.placedOn };
    return { job, plan: await planJob(job.jobId, job.events, deps, opts).catch((err: unknown) => ({ kind: "failed" as const, err })) };
  });
  const indexed = await applyIndex(planned, deps.index);
  const again: Attempt[] = [];
  await mapLimit(planned, deps.writeConcurrency, async ({ job, plan }) => {
    if (plan.kind !== "write") return void outcomes.set(job.jobId, plan);
    const placedOn = indexed.placed.get(job.jobId) ?? job.placedOn;
    try {
      if (indexed.failed.has(job.jobId)) throw indexed.failed.get(job.jobId);
      const view = await save(plan, placedOn, deps);
      outcomes.set(job.jobId, { kind: "written", view, base: plan.base, resync: plan.resync });
    } catch (err) {
      if (isWrongLastSequence(err) && job.conflicts < MAX_CONFLICTS) again.push({ ...job, conflicts: job.conflicts + 1, placedOn });
      else outcomes.set(job.jobId, { kind: "failed", err });
    }
  });
  return again;
}

/** The round's index changes at once; a failure of the index as a whole fails each job that had one. */
async function applyIndex(planned: readonly Planned[], index: ProjectionDeps["index"]): Promise<IndexApplied> {
  const changes = planned.flatMap(({ plan }) => (plan.kind === "write" && plan.index !== null ? [plan.index] : []));
  if (changes.length === 0) return { placed: new Map(), failed: new Map() };
  try {
    return await index.apply(changes);
  } catch (err) {
    return { placed: new Map(), failed: new Map(changes.map((c) => [c.entry.id, err])) };
  }
}

/** Saves the planned view where the index put its entry; rejects on a conflict (the cache forgets the job). */
async function save(plan: Extract<JobPlan, { kind: "write" }>, indexPage: number | undefined, deps: ProjectionDeps): Promise<JobView> {
  const view = indexPage === undefined || indexPage === plan.next.indexPage ? plan.next : { ...plan.next, indexPage };
  try {
    const revision = await deps.views.save(view, plan.revision);
    deps.cache.set(view.id, { view, revision });
    return view;
  } catch (err) {
    // On a conflict someone else wrote (another projector, a rebuild); on any other
    // error the write may or may not have happened: forget either way.
    deps.cache.delete(view.id);
    throw err;
  }
}
