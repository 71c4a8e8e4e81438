import { describe, expect, it } from "vitest";
import type { IndexEntry, JobStatus, JobView } from "@jobs/core";
import { listJobs, MAX_PAGES_PER_LIST } from "../src/jobs/job-listing.ts";
import { InvalidCursorError, type IndexReader, type JobListQuery } from "../src/ports.ts";

/**
 * The listing walk against a hand-made index: what it trusts the index for (where to
 * look) and what it decides on the views (ownership, filters, the entry's page).
 */
type Page = IndexEntry[];

function setup(pages: Page[], views: JobView[]) {
  const byId = new Map(views.map((v) => [v.id, v]));
  let pageReads = 0;
  const index: IndexReader = {
    async head(app) {
      return app === "a" && pages.length > 0 ? { page: pages.length } : null;
    },
    async page(app, n) {
      pageReads++;
      return app === "a" && pages[n - 1] !== undefined ? { entries: pages[n - 1]! } : null;
    },
  };
  const run = (q: Partial<JobListQuery> = {}) => listJobs(index, async (id) => byId.get(id) ?? null, { app: "a", limit: 50, ...q });
  return { run, pageReads: () => pageReads };
}

const entry = (id: string, status: JobStatus = "queued", type = "sum"): IndexEntry => ({ id, type, status, seq: 1 });
const view = (id: string, page: number | undefined, over: Partial<JobView> = {}): JobView => ({
  id,
  type: "sum",
  status: "queued",
  params: {},
  meta: {},
  progress: null,
  result: null,
  error: null,
  attempts: 0,
  maxAttempts: 1,
  createdAt: "2025-01-01T00:00:00.000Z",
  startedAt: null,
  finishedAt: null,
  updatedAt: "2025-01-01T00:00:00.000Z",
  app: "a",
  timeoutMs: 1000,
  runAt: null,
  priority: "normal",
  startBy: null,
  scheduleId: null,
  seq: 1,
  ...(page === undefined ? {} : { indexPage: page }),
  ...over,
});
const ids = (r: { items: JobView[] }) => r.items.map((v) => v.id);

describe("listJobs", () => {
  it("lists a job only on the page its view names, and skips entries whose view is gone or another application's", async () => {
    const { run } = setup(
      [[entry("A"), entry("COPY"), entry("GONE")], [entry("B"), entry("COPY"), entry("THEIRS"), entry("FOLDED")]],
      [view("A", 1), view("B", 2), view("COPY", 2), view("THEIRS", 2, { app: "b" }), view("FOLDED", undefined)],
    );
    // FOLDED has no page: its view was folded from the stream (not projected yet), so it is taken where found.
    expect(ids(await run())).toEqual(["FOLDED", "COPY", "B", "A"]);
  });

  it("decides the status filter on the view, since the index may be a flush ahead or behind", async () => {
    const { run } = setup([[entry("A", "running"), entry("B", "queued"), entry("C", "succeeded")]], [view("A", 1), view("B", 1, { status: "succeeded" }), view("C", 1, { status: "succeeded" })]);
    expect(ids(await run({ status: "succeeded" }))).toEqual(["C"]); // B's entry still says queued: not picked yet
    expect(ids(await run({ status: "queued" }))).toEqual([]); // B picked by its entry, dropped by its view
    expect(ids(await run({ status: "running" }))).toEqual([]);
  });

  it("keeps looking when picked entries are dropped, to fill the page", async () => {
    const { run } = setup([[entry("A"), entry("B"), entry("C"), entry("X1"), entry("X2")]], [view("A", 1), view("B", 1), view("C", 1)]);
    const page = await run({ limit: 3 });
    expect(ids(page)).toEqual(["C", "B", "A"]);
    expect(page.next).toBeNull();
  });

  it("continues exactly where the cursor points, across empty and partly filled pages", async () => {
    const views = ["A", "B", "C", "D", "E"].map((id, i) => view(id, i < 2 ? 1 : 3));
    const { run } = setup([[entry("A"), entry("B")], [], [entry("C"), entry("D"), entry("E")]], views);
    const first = await run({ limit: 2 });
    expect([ids(first), first.next]).toEqual([["E", "D"], { page: 3, before: 1 }]);
    const second = await run({ limit: 2, from: first.next! });
    expect([ids(second), second.next]).toEqual([["C", "B"], { page: 1, before: 1 }]);
    const third = await run({ limit: 2, from: second.next! });
    expect([ids(third), third.next]).toEqual([["A"], null]);
  });

  it("reads a bounded number of pages per request and says where to go on", async () => {
    const pages = Array.from({ length: MAX_PAGES_PER_LIST + 4 }, (_, p) => [entry(`Q${p}`, p === 0 ? "failed" : "queued")]);
    const { run, pageReads } = setup(pages, [view("Q0", 1, { status: "failed" }), ...pages.slice(1).map((_, p) => view(`Q${p + 1}`, p + 2))]);
    const first = await run({ status: "failed" });
    expect(first.items).toEqual([]); // nothing matched within the pages it may read
    expect(first.next).toEqual({ page: 4 });
    expect(pageReads()).toBe(MAX_PAGES_PER_LIST);
    const second = await run({ status: "failed", from: first.next! });
    expect([ids(second), second.next]).toEqual([["Q0"], null]);
  });

  it("lists nothing for an application without a head, and refuses a position past the newest page", async () => {
    const { run } = setup([[entry("A")]], [view("A", 1)]);
    expect(await run({ app: "b" })).toEqual({ items: [], next: null });
    await expect(run({ from: { page: 2 } })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(run({ app: "b", from: { page: 1 } })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
