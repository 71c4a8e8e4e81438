import { describe, expect, it } from "vitest";
import { evolve } from "../src/evolve.ts";
import { indexEntryOf, isIndexableApp, isIndexPage, recordEntry, type IndexEntry } from "../src/job-index.ts";
import { JOB_ID, requested, started } from "./support/events.ts";

const entry = (id: string, status: IndexEntry["status"], seq: number): IndexEntry => ({ id, type: "sum", status, seq });

describe("the listing index format", () => {
  it("records a newer status in place and refuses an older one", () => {
    const page = [entry("A", "queued", 1), entry("B", "running", 5)];
    const newer = recordEntry(page, 1, entry("B", "succeeded", 9));
    expect(newer).toEqual([entry("A", "queued", 1), entry("B", "succeeded", 9)]);
    expect(page[1]).toEqual(entry("B", "running", 5)); // the input is not changed
    expect(recordEntry(newer, 1, entry("B", "running", 7))).toBe(newer); // late
    expect(recordEntry(newer, 1, entry("B", "succeeded", 9))).toBe(newer); // the same
    expect(() => recordEntry(page, 0, entry("B", "failed", 9))).toThrow(/no entry of B/);
  });

  it("indexes only application names that are one key token", () => {
    for (const app of ["dev", "App_1", "a-b", "x".repeat(64)]) expect(isIndexableApp(app), app).toBe(true);
    for (const app of ["", "a.b", "a b", "*", ">", "a/b", "x".repeat(65)]) expect(isIndexableApp(app), app).toBe(false);
  });

  it("checks stored pages", () => {
    expect(isIndexPage({ entries: [entry("A", "queued", 1)] })).toBe(true);
    expect(isIndexPage({ entries: [{ id: "A", type: "sum", status: "lost", seq: 1 }] })).toBe(false);
    expect(isIndexPage({ items: [] })).toBe(false);
  });

  it("keeps a view's page through the fold, and takes the entry from the view", () => {
    const placed = { ...evolve(null, { seq: 3, event: requested() })!, indexPage: 7 };
    const running = evolve(placed, { seq: 4, event: started(1) })!;
    expect(running).toMatchObject({ status: "running", indexPage: 7 });
    expect(indexEntryOf(running)).toEqual({ id: JOB_ID, type: "sum", status: "running", seq: 4 });
  });
});
