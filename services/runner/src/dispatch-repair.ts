import { dueAt, foldEvents, isFinal, jobIdFromSubject, PRIORITIES, priorityOf, type JobNames, type JobRequested, type JobView } from "@jobs/core";
import { DeliverPolicy, newDispatch, type DispatchLog, type EventLog, type JetStreamClient, type JetStreamManager, type ViewStore } from "@jobs/nats";
import type { Logger } from "pino";

export interface RepairDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: JobNames;
  events: EventLog;
  views: ViewStore;
  dispatch: DispatchLog;
  log: Logger;
  /** Creates the dispatch stream and its consumers again (after the stream was deleted). */
  reprovision: () => Promise<void>;
  /** The runner stops: a repair under way gives up (unmarked, so the next check repairs again). */
  stopping: AbortSignal;
}

/** How many jobs a repair looks at at once. */
const REPAIR_CONCURRENCY = 16;

/**
 * The dispatch stream is operational state: if it was purged or lost (its marker is
 * gone), this puts back, from the event stream, everything that waits in it: each job
 * that has not ended and is not running, except a normal job due at once that no attempt
 * has touched (the runners' consumer of the event stream still holds it). A job whose time
 * has passed goes straight to its ready queue. The marker says "repairing" first and
 * "complete" after, and only if nothing purged it meanwhile (else the repair runs again).
 * Several runners may repair at once: the ready dispatches carry message ids, the
 * schedules replace each other, and a second dispatch of a started attempt is dropped
 * (decideDelivery).
 * Returns how many jobs it dispatched, or null when nothing was missing.
 */
export async function repairDispatchIfLost(deps: RepairDeps): Promise<number | null> {
  const complete = await deps.dispatch.isComplete().catch(async (err: unknown) => {
    if (await deps.dispatch.streamExists()) throw err;
    deps.log.warn({ stream: deps.names.dispatchStream }, "the dispatch stream is gone: creating it again");
    await deps.reprovision();
    return false;
  });
  if (complete) return null;
  for (let round = 1; ; round++) {
    if (round > 1 && (await deps.dispatch.isComplete())) return 0; // another runner's repair finished it
    deps.log.warn({ stream: deps.names.dispatchStream, round }, "the dispatch stream is empty, new or half-repaired: restoring waiting jobs from the event stream");
    const began = await deps.dispatch.markRepairing();
    const dispatched = await restoreAll(deps);
    if (await deps.dispatch.markComplete(began)) return dispatched;
    // Purged again while we repaired: what the purge took after our scan read it is missing.
    if (round >= MAX_ROUNDS) throw new Error(`the dispatch stream changed under ${round} repairs in a row`);
  }
}

const MAX_ROUNDS = 3;

async function restoreAll(deps: RepairDeps): Promise<number> {
  const started = performance.now();
  let dispatched = 0;
  let failure: unknown = null;
  const requests = await deps.js.consumers.get(deps.names.stream, {
    filter_subjects: [deps.names.requestFilter, ...PRIORITIES.map((p) => deps.names.routedFilter(p))],
    deliver_policy: DeliverPolicy.All,
    headers_only: true,
  });
  const pending = new Set<Promise<void>>();
  try {
    // Every request stored before the scan began; later ones are routed as they come.
    const total = (await requests.info()).num_pending;
    let seen = 0;
    while (seen < total && failure === null) {
      const batch = await requests.fetch({ max_messages: Math.min(1000, total - seen), expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        seen++;
        const jobId = jobIdFromSubject(m.subject);
        const work = restoreJob(jobId, m.subject !== deps.names.requestSubject(jobId), deps).then(
          (n) => void (dispatched += n),
          (err: unknown) => void (failure ??= err),
        );
        pending.add(work);
        void work.finally(() => pending.delete(work));
        if (pending.size >= REPAIR_CONCURRENCY) await Promise.race(pending);
      }
      if (got === 0) throw new Error(`the scan of ${deps.names.stream}'s requests stopped after ${seen} of ${total}`);
      if (deps.stopping.aborted) throw new Error("the runner is stopping; the repair is left to the next check");
    }
    await Promise.all(pending);
    if (failure !== null) throw failure;
  } finally {
    await requests.delete().catch(() => undefined);
  }
  deps.log.info({ dispatched, ms: Math.round(performance.now() - started) }, "dispatch stream restored");
  return dispatched;
}

/** Puts back what one job waits on in the dispatch stream; returns 1 if it dispatched it. */
async function restoreJob(jobId: string, routed: boolean, deps: RepairDeps): Promise<number> {
  const known = await deps.views.get(jobId);
  if (known !== null && isFinal(known.view.status)) return 0;
  const events = await deps.events.read(jobId);
  const view: JobView | null = foldEvents(events);
  if (view === null || isFinal(view.status) || view.status === "running") return 0;
  // A normal request due at once that no attempt touched is still on the runners' consumer
  // of the event stream. (One with a runAt, stored before dispatches existed, was acked
  // once its schedule was set: restore it.)
  if (!routed && view.attempts === 0 && view.runAt === null) return 0;
  const request = events[0]!.event as JobRequested;
  const next = newDispatch(jobId, view.attempts + 1);
  const priority = priorityOf(request);
  if (view.startBy !== null) await deps.dispatch.expireAt(jobId, new Date(view.startBy));
  const due = dueAt(view, events);
  if (due !== null && due.getTime() > Date.now()) await deps.dispatch.waitUntil(priority, next, due);
  else await deps.dispatch.ready(priority, next);
  return 1;
}
