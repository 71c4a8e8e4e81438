import { threadId } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { NonRetryableError } from "../src/job-type.ts";
import { runInWorker } from "../src/run-in-worker.ts";

const FIXTURE = new URL("./fixtures/worker-functions.ts", import.meta.url).href;

/** Atomics.waitAsync (Node 16+; ES2024, newer than the project's lib): waits until counter[0] leaves `seen`. */
const waitChange = (counter: Int32Array, seen: number, timeoutMs: number): Promise<string> | string =>
  (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { value: Promise<string> | string } }).waitAsync(counter, 0, seen, timeoutMs).value;

describe("runInWorker", () => {
  it("returns the export's result, computed in another thread", async () => {
    expect(await runInWorker<number>(FIXTURE, "add", [2, 3])).toBe(5);
    expect(await runInWorker<string>(FIXTURE, "later", ["async value"])).toBe("async value");
    const workerThread = await runInWorker<number>(FIXTURE, "threadId", []);
    expect(workerThread).not.toBe(threadId);
  });

  it("rejects with the worker's error, keeping NonRetryableError and its code", async () => {
    const refused = await runInWorker(FIXTURE, "refuse", []).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NonRetryableError);
    expect(refused).toMatchObject({ message: "no, never", code: "refused" });

    const crashed = await runInWorker(FIXTURE, "crash", []).catch((e: unknown) => e);
    expect(crashed).toBeInstanceOf(Error);
    expect(crashed).not.toBeInstanceOf(NonRetryableError);
    expect((crashed as Error).message).toBe("plain failure");

    await expect(runInWorker(FIXTURE, "noSuchExport", [])).rejects.toThrow(/no exported function "noSuchExport"/);
  });

  it("rejects at once with the abort reason and terminates a busy worker", async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const controller = new AbortController();
    const running = runInWorker(FIXTURE, "countForever", [counter], controller.signal);
    const outcome = running.catch((e: unknown) => e);

    // Wait until the worker is really counting (it never yields), then abort.
    while (Atomics.load(counter, 0) === 0) await waitChange(counter, 0, 100);
    const reason = new Error("stop now");
    controller.abort(reason);
    // At once: settled before the event loop turns even once, so it waits neither for
    // the busy worker nor for the end of its termination.
    const nextTurn = new Promise((resolve) => setImmediate(() => resolve("the next turn of the event loop")));
    expect(await Promise.race([outcome, nextTurn])).toBe(reason);

    // Terminated: the count stops moving (a live worker bumps it within microseconds).
    await expect.poll(async () => waitChange(counter, Atomics.load(counter, 0), 300), { timeout: 5_000 }).toBe("timed-out");
  });

  it("does not start when the signal is already aborted", async () => {
    const reason = new Error("too late");
    await expect(runInWorker(FIXTURE, "add", [1, 1], AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
