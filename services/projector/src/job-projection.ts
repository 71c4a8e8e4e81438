import type { JobView, StoredEvent } from "@jobs/core";
import { isRevisionConflict, type ViewEntry } from "@jobs/nats";
import type { IndexApplied, IndexChange } from "./index-writer.ts";
import { planJob, type JobPlan, type PlanOptions } from "./job-plan.ts";
import type { ViewCache } from "./view-cache.ts";

/** Where views live (ViewStore implements it; tests use a fake). */
export interface ViewPort {
  get(jobId: string): Promise<ViewEntry | null>;
  /** Creates (revision null) or updates with compare-and-set; rejects on a conflict. */
  save(view: JobView, revision: number | null): Promise<number>;
}

/** Every event of one job in stream order (EventLog implements it). */
export interface HistoryPort {
  read(jobId: string): Promise<StoredEvent[]>;
}

export type ProjectionOutcome =
  /** `base`: the view that `view` replaced (null: it was created). */
  | { kind: "written"; view: JobView; base: JobView | null; resynced: boolean }
  | { kind: "unchanged"; resynced: boolean }
  /** Nothing to fold into: the stream holds no JobRequested for the job, or its history does not decode. */
  | { kind: "orphan"; reason: string };

/** Records index changes (IndexWriter implements it). */
export interface IndexPlacer {
  apply(changes: readonly IndexChange[]): Promise<IndexApplied>;
}

export interface ProjectionDeps {
  views: ViewPort;
  history: HistoryPort;
  cache: ViewCache;
  index: IndexPlacer;
}

const MAX_CONFLICTS = 5;

/** Saves the planned view, placed where the index put its entry; rejects on a conflict (the cache forgets the job). */
export async function commitPlan(plan: Extract<JobPlan, { kind: "write" }>, indexPage: number | undefined, deps: ProjectionDeps): Promise<JobView> {
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

/**
 * Folds, indexes and saves one job, re-reading and re-folding after a revision conflict
 * (someone else wrote the view between our read and our write). The flush batches the
 * first attempt of every job and comes here only for the jobs that lost a race.
 */
export async function projectJob(jobId: string, events: readonly StoredEvent[], deps: ProjectionDeps, opts: PlanOptions = {}): Promise<ProjectionOutcome> {
  let { firstTry = true, placedOn } = opts;
  for (let conflicts = 0; ; conflicts++) {
    const plan = await planJob(jobId, events, deps, { firstTry, placedOn });
    if (plan.kind !== "write") return plan;
    placedOn = (await placeOne(plan.index, deps.index)) ?? placedOn;
    try {
      const view = await commitPlan(plan, placedOn, deps);
      return { kind: "written", view, base: plan.base, resynced: plan.resynced };
    } catch (err) {
      if (!isRevisionConflict(err) || conflicts >= MAX_CONFLICTS) throw err;
      firstTry = false;
    }
  }
}

async function placeOne(change: IndexChange | null, index: IndexPlacer): Promise<number | undefined> {
  if (change === null) return undefined;
  const { placed, failed } = await index.apply([change]);
  if (failed.has(change.entry.id)) throw failed.get(change.entry.id);
  return placed.get(change.entry.id);
}
