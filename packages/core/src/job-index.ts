import { Type, type Static } from "typebox";
import { Compile } from "typebox/compile";
import { JobStatus, type JobView } from "./job.ts";

/**
 * The listing index behind `GET /job`, kept by the projector in its own KV bucket (keys
 * in names.ts). Per application, a chain of pages in the order the projector indexed
 * the jobs (the stream order of their requests, in the steady state):
 *
 *   <app>.head  -> { page: n }                      the newest page
 *   <app>.p.<k> -> { entries: [{id, type, status, seq}, ...] }   k = 1..n
 *
 * A page holds at most INDEX_PAGE_SIZE entries and only ever grows: an entry keeps its
 * page and position for good (its status changes in place), so a listing position
 * (page, index) stays valid while new jobs arrive. The job's view records the page of
 * its entry (`indexPage`); that is how a status change finds it without a scan.
 */
export const INDEX_PAGE_SIZE = 256;

export const IndexEntry = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: JobStatus,
  /** The view's `seq` when this status was recorded: an older status never overwrites a newer one. */
  seq: Type.Integer({ minimum: 0 }),
});
export type IndexEntry = Static<typeof IndexEntry>;

export const IndexPage = Type.Object({ entries: Type.Array(IndexEntry) });
export type IndexPage = Static<typeof IndexPage>;

export const IndexHead = Type.Object({ page: Type.Integer({ minimum: 1 }) });
export type IndexHead = Static<typeof IndexHead>;

const checkPage = Compile(IndexPage);
const checkHead = Compile(IndexHead);
export const isIndexPage = (value: unknown): value is IndexPage => checkPage.Check(value);
export const isIndexHead = (value: unknown): value is IndexHead => checkHead.Check(value);

/**
 * Application names that can be a KV key token. The gateway only accepts such names in
 * API_TOKENS; a request event with any other `app` (written by something else) is not
 * indexed rather than allowed to forge keys.
 */
const INDEXABLE_APP = /^[A-Za-z0-9_-]{1,64}$/;
export const isIndexableApp = (app: string): boolean => INDEXABLE_APP.test(app);

/** The entry that stands for a view in its application's index. */
export function indexEntryOf(view: JobView): IndexEntry {
  return { id: view.id, type: view.type, status: view.status, seq: view.seq };
}

/**
 * `entries` with `entry` recorded at position `at`, or the same array when there is
 * nothing to change: the entry there is the same, or newer (a higher seq), so a late
 * writer never undoes a newer status.
 */
export function recordEntry(entries: readonly IndexEntry[], at: number, entry: IndexEntry): readonly IndexEntry[] {
  const current = entries[at];
  if (current === undefined || current.id !== entry.id) throw new Error(`no entry of ${entry.id} at position ${at}`);
  const same = current.seq === entry.seq && current.status === entry.status && current.type === entry.type;
  if (same || current.seq > entry.seq) return entries;
  const next = [...entries];
  next[at] = entry;
  return next;
}
