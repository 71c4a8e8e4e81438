import { describe, expect, it } from "vitest";
import { Job, toJob, type JobView } from "../src/job.ts";
import { decodeView, encodeView, FOLD_VERSION, InvalidViewError, isTrusted, readStoredView } from "../src/stored-view.ts";

/** A stored view is decoded and checked as an event is, and carries the fold version that wrote it. */
const ID = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const view: JobView = {
  id: ID,
  type: "sum",
  status: "succeeded",
  params: { a: 1, b: 2 },
  meta: { tenant: "ü ✓" },
  progress: { percent: 100 },
  result: { value: 3 },
  error: null,
  attempts: 1,
  maxAttempts: 3,
  createdAt: "2025-01-01T00:00:00.000Z",
  startedAt: "2025-01-01T00:00:01.000Z",
  finishedAt: "2025-01-01T00:00:02.000Z",
  updatedAt: "2025-01-01T00:00:02.000Z",
  app: "app1",
  timeoutMs: 60_000,
  runAt: null,
  priority: "normal",
  startBy: null,
  scheduleId: null,
  seq: 4,
  indexPage: 1,
};
const json = (value: unknown) => JSON.stringify(value);

describe("encodeView and decodeView", () => {
  it("round-trip a view, storing the current fold version beside it", () => {
    const bytes = encodeView(view);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ ...view, foldVersion: FOLD_VERSION });
    expect(decodeView(bytes, ID)).toEqual({ view, foldVersion: FOLD_VERSION });
  });

  it("reads a view written before the version was stored as version 1 (the fold has not changed since)", () => {
    expect(decodeView(json(view))).toEqual({ view, foldVersion: 1 });
  });

  it("reports another version as it is", () => {
    expect(decodeView(json({ ...view, foldVersion: FOLD_VERSION + 1 })).foldVersion).toBe(FOLD_VERSION + 1);
  });

  it.each([
    ["not JSON", "{ not a view"],
    ["not an object", "42"],
    ["null", "null"],
    ["a field missing", json({ ...view, seq: undefined })],
    ["a field of the wrong type", json({ ...view, status: "done" })],
    ["a bad time", json({ ...view, createdAt: "yesterday" })],
    ["a version that is not an integer", json({ ...view, foldVersion: "2" })],
  ])("rejects %s", (_, payload) => {
    expect(() => decodeView(payload)).toThrow(InvalidViewError);
  });

  it("rejects the view of another job under a job's key", () => {
    expect(() => decodeView(json(view), "01JBBBBBBBBBBBBBBBBBBBBBBB")).toThrow(/key/);
  });
});

describe("readStoredView", () => {
  it("trusts a view of the current fold only", () => {
    expect(isTrusted(readStoredView(encodeView(view), ID, 7))).toBe(true);
    const older = readStoredView(json({ ...view, foldVersion: FOLD_VERSION + 1 }), ID, 7);
    expect(older).toEqual({ revision: 7, view, foldVersion: FOLD_VERSION + 1 });
    expect(isTrusted(older)).toBe(false);
  });

  it("gives a value that is not a view as null, with its revision, so that a writer can replace it", () => {
    const garbage = readStoredView("{ not a view", ID, 9);
    expect(garbage).toEqual({ revision: 9, view: null, foldVersion: null });
    expect(isTrusted(garbage)).toBe(false);
  });
});

describe("toJob", () => {
  it("gives the API exactly the contract's fields: neither the view's own fields nor the stored version", () => {
    const stored = JSON.parse(new TextDecoder().decode(encodeView(view))) as JobView; // what a raw KV read yields
    expect(Object.keys(toJob(stored)).sort()).toEqual(Object.keys(Job.properties).sort());
    expect(Object.keys(toJob(decodeView(encodeView(view)).view)).sort()).toEqual(Object.keys(Job.properties).sort());
  });
});
