import type { IndexEntry, JobView, StoredEvent, StoredView } from "@jobs/core";
import type { IndexHeadEntry, IndexPageEntry } from "@jobs/nats";

/**
 * What the projector reads and writes, as narrow interfaces: the NATS adapters of
 * @jobs/nats implement them in production (named on each), in-memory fakes in the tests.
 */

/** Where views live (ViewStore). */
export interface ViewPort {
  /** Whatever the key holds, trusted or not, with its revision; null when it is empty. */
  readForUpdate(jobId: string): Promise<StoredView | null>;
  /** Creates (revision null) or updates with compare-and-set; rejects on a conflict. */
  save(view: JobView, revision: number | null): Promise<number>;
}

/** Every event of one job in stream order (EventLog). */
export interface HistoryPort {
  read(jobId: string): Promise<StoredEvent[]>;
}

/** The listing index bucket (IndexStore). */
export interface IndexPort {
  head(app: string): Promise<IndexHeadEntry | null>;
  page(app: string, page: number): Promise<IndexPageEntry | null>;
  /** Creates (revision null) or updates with compare-and-set; rejects on a conflict. */
  savePage(app: string, page: number, entries: readonly IndexEntry[], revision: number | null): Promise<number>;
  saveHead(app: string, page: number, revision: number | null): Promise<number>;
}
