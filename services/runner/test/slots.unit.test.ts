import { describe, expect, it } from "vitest";
import { Slots } from "../src/slots.ts";

/** A job the test ends when it wants: its promise, and the function that settles it. */
function job() {
  let end!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((end = resolve), (fail = reject)));
  return { work: () => done, end, fail };
}
const turn = () => new Promise<void>((r) => setImmediate(r));

describe("Slots", () => {
  it("counts the jobs running and frees a slot when a job settles, failed or not", async () => {
    const slots = new Slots(2);
    const [a, b] = [job(), job()];
    slots.run(a.work);
    slots.run(b.work);
    expect([slots.busy, slots.free]).toEqual([2, 0]);
    a.fail(new Error("a job's own error: its handler logged it"));
    await turn();
    expect([slots.busy, slots.free]).toEqual([1, 1]);
    b.end();
    await turn();
    expect(slots.busy).toBe(0);
  });

  it("tells onFree listeners and wakes waitFor when a slot frees", async () => {
    const slots = new Slots(1);
    const a = job();
    let freed = 0;
    slots.onFree(() => freed++);
    slots.run(a.work);
    let woke = false;
    const waiting = slots.waitFor(() => slots.free > 0, new AbortController().signal).then(() => (woke = true));
    await turn();
    expect(woke).toBe(false);
    a.end();
    await waiting;
    expect([woke, freed]).toEqual([true, 1]);
  });

  it("stops waiting when the signal aborts, and wakes on notify to check again", async () => {
    const slots = new Slots(1);
    slots.run(job().work);
    const stop = new AbortController();
    const aborted = slots.waitFor(() => false, stop.signal);
    stop.abort();
    await aborted; // resolves although the condition never held

    let ready = false;
    const waiting = slots.waitFor(() => ready, new AbortController().signal);
    ready = true;
    slots.notify();
    await waiting;
  });

  it("idle() resolves at once when nothing runs, else when the last job settles", async () => {
    const slots = new Slots(3);
    await slots.idle();
    const [a, b] = [job(), job()];
    slots.run(a.work);
    slots.run(b.work);
    let idle = false;
    const done = slots.idle().then(() => (idle = true));
    a.end();
    await turn();
    expect(idle).toBe(false);
    b.end();
    await done;
  });

  it("knows how long recent jobs held their slot once `size` jobs have ended", async () => {
    const slots = new Slots(2);
    expect(slots.recentJobMs).toBeNull();
    for (let i = 0; i < 2; i++) {
      const j = job();
      slots.run(j.work);
      j.end();
      await turn();
    }
    expect(slots.recentJobMs).toBeGreaterThanOrEqual(0);
  });
});
