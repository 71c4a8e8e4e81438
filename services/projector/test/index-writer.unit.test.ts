import { describe, expect, it } from "vitest";
import { INDEX_PAGE_SIZE, type IndexEntry, type JobStatus } from "@jobs/core";
import { IndexWriter, type IndexChange } from "../src/index-writer.ts";
import { FakeIndex } from "./fake-index.ts";

/** The index writer against an in-memory bucket with revisions. */
const entry = (id: string, status: JobStatus = "queued", seq = 1): IndexEntry => ({ id, type: "sum", status, seq });
const append = (id: string, order: number, app = "a"): IndexChange => ({ app, entry: entry(id, "queued", order), order });
const ids = (index: FakeIndex, app = "a") => index.chain(app).map(([, e]) => e.id);

describe("IndexWriter", () => {
  it("appends in request order, fills pages to the page size, then starts the next one", async () => {
    const index = new FakeIndex();
    const writer = new IndexWriter(index);
    const first = Array.from({ length: INDEX_PAGE_SIZE - 2 }, (_, i) => append(`J${i}`, i + 1));
    await writer.apply(first.toReversed()); // given out of order: sorted by request seq
    const { placed } = await writer.apply([append("X1", 1000), append("X2", 1001), append("X3", 1002), append("X4", 1003)]);
    expect([...placed]).toEqual([
      ["X1", 1],
      ["X2", 1],
      ["X3", 2],
      ["X4", 2],
    ]);
    expect(ids(index)).toEqual([...first.map((c) => c.entry.id), "X1", "X2", "X3", "X4"]);
    expect(index.data.get("a.head")!.value).toEqual({ page: 2 });
  });

  it("takes changes that arrive while a round is under way into the next round: it never races itself", async () => {
    const index = new FakeIndex();
    const writer = new IndexWriter(index);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => writer.apply([append(`J${i}`, i + 1)])));
    expect(results.every((r) => r.failed.size === 0 && r.placed.size === 1)).toBe(true);
    expect(writer.stats.conflicts).toBe(0);
    expect(index.writes).toBeLessThanOrEqual(3); // the first round (page and head), then one round for the other 29
    expect(ids(index).toSorted()).toEqual(Array.from({ length: 30 }, (_, i) => `J${i}`).toSorted());
  });

  it("keeps applications apart", async () => {
    const index = new FakeIndex();
    const { placed } = await new IndexWriter(index).apply([append("A1", 1, "alpha"), append("B1", 2, "beta"), append("A2", 3, "alpha")]);
    expect([...placed.values()]).toEqual([1, 1, 1]);
    expect([ids(index, "alpha"), ids(index, "beta")]).toEqual([["A1", "A2"], ["B1"]]);
  });

  it("updates an entry in place, and never lets an older status overwrite a newer one", async () => {
    const index = new FakeIndex();
    const writer = new IndexWriter(index);
    await writer.apply([append("J1", 1), append("J2", 2)]);
    await writer.apply([{ app: "a", entry: entry("J1", "succeeded", 9), page: 1, order: 1 }]);
    await writer.apply([{ app: "a", entry: entry("J1", "running", 5), page: 1, order: 1 }]); // a late writer
    expect(index.chain("a").map(([, e]) => [e.id, e.status, e.seq])).toEqual([
      ["J1", "succeeded", 9],
      ["J2", "queued", 2],
    ]);
  });

  it("finds a job appended by an earlier attempt instead of appending it twice, even on a page whose head was never saved", async () => {
    const index = new FakeIndex();
    const full = Array.from({ length: INDEX_PAGE_SIZE }, (_, i) => entry(`J${i}`));
    index.put("a.p.1", { entries: full });
    index.put("a.head", { page: 1 });
    index.put("a.p.2", { entries: [entry("N1")] }); // an attempt stored page 2, then failed before the head
    const { placed } = await new IndexWriter(index).apply([append("N1", 1), append("N2", 2)]);
    expect([...placed]).toEqual([
      ["N1", 2],
      ["N2", 2],
    ]);
    expect(ids(index).slice(INDEX_PAGE_SIZE)).toEqual(["N1", "N2"]);
    expect(index.data.get("a.head")!.value).toEqual({ page: 2 });
  });

  it("applies its changes again to fresh pages when another writer got there first", async () => {
    const index = new FakeIndex();
    const writer = new IndexWriter(index);
    await writer.apply([append("J1", 1)]);
    let raced = false;
    index.beforeWrite = (key) => {
      if (raced || key !== "a.p.1") return;
      raced = true; // a second projector appends between our read (cached) and our write
      index.put("a.p.1", { entries: [entry("J1"), entry("OTHER")] });
    };
    const { placed, failed } = await writer.apply([append("J2", 2), { app: "a", entry: entry("J1", "running", 3), page: 1, order: 1 }]);
    expect(failed.size).toBe(0);
    expect(placed.get("J2")).toBe(1);
    expect(index.chain("a").map(([, e]) => [e.id, e.status])).toEqual([
      ["J1", "running"],
      ["OTHER", "queued"],
      ["J2", "queued"],
    ]);
    expect(writer.stats.conflicts).toBe(1);
  });

  it("appends again a job whose page no longer holds it (the index was lost), and says where", async () => {
    const index = new FakeIndex();
    const { placed } = await new IndexWriter(index).apply([{ app: "a", entry: entry("J7", "running", 4), page: 3, order: 1 }]);
    expect(placed.get("J7")).toBe(1);
    expect(index.chain("a").map(([page, e]) => [page, e.id, e.status])).toEqual([[1, "J7", "running"]]);
  });

  it("reports the jobs of an application whose pages cannot be written, and writes the others", async () => {
    const index = new FakeIndex();
    index.beforeWrite = (key) => {
      if (key.startsWith("bad.")) throw new Error("TIMEOUT");
    };
    const { placed, failed } = await new IndexWriter(index).apply([append("G1", 1, "good"), append("B1", 2, "bad")]);
    expect([...placed.keys()]).toEqual(["G1"]);
    expect([...failed.keys()]).toEqual(["B1"]);
    expect(ids(index, "good")).toEqual(["G1"]);
  });
});
