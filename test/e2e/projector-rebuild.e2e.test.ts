import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { newJobId } from "@jobs/core";
import { eventually } from "../support/eventually.ts";
import type { ApiResponse } from "../support/http.ts";
import { startFaultStack, type FaultStack } from "../support/fault-stack.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";

/**
 * `pnpm projector:rebuild` as an operator runs it: the package.json script, run the way
 * pnpm runs a script (`sh -c` in the repository's root, node on PATH), as its own
 * process against a live stack whose jobs have ended. Its views are damaged (deleted,
 * garbled, changed, an orphan added, the listing's head removed) or lost altogether;
 * after the command, every view equals a fold of the stream (an in-process rebuild
 * finds nothing to write), GET /job/{id} answers what it answered before the damage,
 * and the listing lists every job again. What the command prints counts what it repaired.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts["projector:rebuild"]!;
let f: FaultStack;

beforeAll(async () => {
  f = await startFaultStack({ label: "rebuild", types: ["sum", "countdown", "external"], runnerIds: ["rb-a"] });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The script, as `pnpm projector:rebuild` runs it, on this stack's server and prefix. */
function rebuildCommand(): Promise<Run> {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NATS_URL: f.nats.url, JOBS_PREFIX: f.names.prefix, LOG_LEVEL: "warn" };
  return new Promise((done, fail) => {
    // The timeout only stops a hung command; the rebuild of a few jobs takes a second or two.
    execFile("sh", ["-c", SCRIPT], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return fail(new Error(`${SCRIPT}: ${err.message}\n${stdout}\n${stderr}`));
      done({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The command's summary: `label  value` rows, by label. */
function summaryOf(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^ {2,}(\S.*?)\s{2,}(\S.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

/** Jobs that end every way: succeeded (with progress), cancelled, failed. */
async function jobsThatEnded(): Promise<string[]> {
  const bodies = [
    ...Array.from({ length: 6 }, (_, i) => ({ type: "sum", params: { a: i, b: 1 } })),
    { type: "countdown", params: { seconds: 1 } },
    { type: "external", params: {}, timeoutMs: 500, maxAttempts: 1 },
  ];
  const ids = acceptedIds(await postJobs(f.api, bodies, { concurrency: 4 }));
  expect(ids).toHaveLength(bodies.length);
  const queued = await f.api.post("/job", { type: "sum", params: { a: 0, b: 0 }, runAt: new Date(Date.now() + 3_600_000).toISOString() });
  expect(queued.status).toBe(202);
  expect((await f.api.post(`/job/${queued.body.id}/cancel`, { reason: "not needed" })).status).toBe(202);
  ids.push(queued.body.id);
  const finals = await waitForFinal(f.api, ids, { timeoutMs: 30_000, logs: f.logs });
  expect([...finals.values()].map((j) => j.status).sort()).toEqual(["cancelled", "failed", ...Array(7).fill("succeeded")]);
  return ids;
}

/** What GET /job/{id} answers for each job. */
async function answers(ids: readonly string[]): Promise<Map<string, unknown>> {
  return new Map(await Promise.all(ids.map(async (id) => [id, (await f.api.get(`/job/${id}`)).body] as const)));
}

/** The ids GET /job lists, following `next` to the end. */
async function listed(): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages++) {
    const res: ApiResponse = await f.api.get(`/job?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    ids.push(...res.body.items.map((j: { id: string }) => j.id));
    cursor = res.body.next;
  }
  return ids;
}

/** A live projector, whatever an earlier test stopped. */
function projectorRunning(): void {
  if (!f.stack.services.some((p) => p.name === "projector" && p.child.exitCode === null && p.child.signalCode === null)) f.stack.start("projector");
}

describe("pnpm projector:rebuild", () => {
  it("repairs damaged views and listing while the projector runs, and says what it repaired", async () => {
    projectorRunning();
    const ids = await jobsThatEnded();
    // Healthy before the damage: the live views equal a fold of the stream.
    const healthy = await rebuildAfterCatchUp(f.nc, f.names, f.logs);
    expectViewsMatchRebuild(healthy);
    const before = await answers(ids);
    const listedBefore = await listed();

    const kv = await new Kvm(f.nc).open(f.names.viewBucket);
    const [deleted1, deleted2, garbled, changed] = ids;
    await kv.delete(deleted1!);
    await kv.purge(deleted2!);
    await kv.put(garbled!, "not a view");
    const view = JSON.parse((await kv.get(changed!))!.string());
    await kv.put(changed!, JSON.stringify({ ...view, result: { value: -1 } }));
    const orphan = newJobId();
    await kv.put(orphan, JSON.stringify({ ...view, id: orphan }));
    const index = await new Kvm(f.nc).open(f.names.indexBucket);
    await index.delete(f.names.indexHeadKey("e2e"));

    const run = await rebuildCommand();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary, run.stdout).toMatchObject({
      jobs: String(healthy.jobs),
      "views written": "4",
      "created (no view)": "2",
      "differed from the live view": "2",
      "views already equal": String(healthy.jobs - 4),
      "orphan views removed": "1",
    });

    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
    expect(await answers(ids)).toEqual(before);
    expect(await kv.get(orphan).then((e) => e?.operation ?? null)).not.toBe("PUT");
    expect(await listed()).toEqual(listedBefore);
  }, 90_000);

  it("restores the view and index buckets from nothing while the projector is down; a new projector carries on from them", async () => {
    projectorRunning();
    const ids = await jobsThatEnded();
    // Caught up before it goes: then nothing of the stream is left for the projector.
    await rebuildAfterCatchUp(f.nc, f.names, f.logs);
    const before = await answers(ids);
    const listedBefore = await listed();
    expect(await f.live("projector").stop("SIGTERM")).toBe(0);
    const jsm = await jetstreamManager(f.nc);
    await jsm.streams.delete(`KV_${f.names.viewBucket}`);
    await jsm.streams.delete(`KV_${f.names.indexBucket}`);

    const run = await rebuildCommand();
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = summaryOf(run.stdout);
    // Every job of the stream (this test's and the earlier ones') had no view.
    expect(summary["created (no view)"], run.stdout).toBe(summary.jobs);
    expect(Number(summary.jobs)).toBeGreaterThanOrEqual(ids.length);
    expect(summary["index entries appended"], run.stdout).toBe(summary.jobs);

    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
    expect(await answers(ids)).toEqual(before);
    expect(await listed()).toEqual(listedBefore);

    // A projector started on the rebuilt buckets folds a new job into them.
    f.stack.start("projector");
    const created = await f.api.post("/job", { type: "sum", params: { a: 20, b: 22 } });
    expect(created.status).toBe(202);
    await waitForFinal(f.api, [created.body.id], { timeoutMs: 20_000, logs: f.logs });
    await eventually(async () => expect((await f.api.get("/job?limit=1")).body.items.map((j: { id: string }) => j.id)).toEqual([created.body.id]), { timeoutMs: 20_000, intervalMs: 200 });
    expectViewsMatchRebuild(await rebuildAfterCatchUp(f.nc, f.names, f.logs));
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
  }, 90_000);
});
