import type { JobView } from "@jobs/core";
import type { KV } from "@jobs/nats";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { watchViewKey } from "../src/nats-view-watch.ts";

interface Entry {
  operation: "PUT" | "DEL" | "PURGE";
  length: number;
  json<T>(): T;
}

/** One KV watch as the test drives it: entries pushed, an end or a failure, and whether the code stopped it. */
class FakeWatcher {
  stopped = false;
  private readonly queue: (Entry | Error | "end")[] = [];
  private wake: (() => void) | undefined;

  push(item: Entry | Error | "end"): void {
    this.queue.push(item);
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Entry> {
    while (!this.stopped) {
      const item = this.queue.shift();
      if (item === undefined) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (item === "end") return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }
}

/** A KV whose watch() answers from a script: an Error rejects that call, a FakeWatcher is returned. */
function fakeKv(script: (Error | FakeWatcher)[]): { kv: KV; calls: () => number } {
  let calls = 0;
  const kv = {
    watch: async () => {
      const next = script[calls++];
      if (next === undefined) throw new Error("script exhausted");
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { kv: kv as unknown as KV, calls: () => calls };
}

const put = (seq: number): Entry => ({ operation: "PUT", length: 10, json: <T>() => ({ id: "j", seq }) as T });

async function collect(iter: AsyncIterable<JobView>, into: number[]): Promise<void> {
  for await (const view of iter) into.push(view.seq);
}

describe("watchViewKey", () => {
  it("yields the values put under the key, skipping deletes, empty and unreadable values", async () => {
    const w = new FakeWatcher();
    const { kv } = fakeKv([w]);
    const errors: unknown[] = [];
    const controller = new AbortController();
    const seen: number[] = [];
    const done = collect(watchViewKey(kv, "j", controller.signal, { onError: (e) => errors.push(e) }), seen);
    w.push(put(1));
    w.push({ operation: "DEL", length: 0, json: () => null as never });
    w.push({ operation: "PUT", length: 0, json: () => null as never });
    w.push({ operation: "PUT", length: 3, json: () => JSON.parse("{x") });
    w.push(put(4));
    await eventually(() => expect(seen).toEqual([1, 4]));
    expect(errors).toHaveLength(1);
    controller.abort();
    await done;
    expect(w.stopped).toBe(true);
  });

  it("re-creates a watch that could not be created or that ended or failed, with growing waits", async () => {
    const [second, third] = [new FakeWatcher(), new FakeWatcher()];
    const { kv, calls } = fakeKv([new Error("no responders"), second, third]);
    const errors: unknown[] = [];
    const controller = new AbortController();
    const seen: number[] = [];
    const done = collect(watchViewKey(kv, "j", controller.signal, { initialBackoffMs: 5, onError: (e) => errors.push(e) }), seen);
    await eventually(() => expect(calls()).toBe(2));
    second.push(put(1));
    second.push(new Error("heartbeats missed"));
    await eventually(() => expect(calls()).toBe(3));
    third.push(put(1)); // a new watch delivers the latest value again: the caller skips it by seq
    third.push(put(2));
    await eventually(() => expect(seen).toEqual([1, 1, 2]));
    expect(errors.map((e) => (e as Error).message)).toEqual(["no responders", "heartbeats missed"]);
    expect(second.stopped).toBe(true);
    controller.abort();
    await done;
    expect(third.stopped).toBe(true);
  });

  it("ends at once on abort, while waiting for a value or between attempts", async () => {
    const w = new FakeWatcher();
    const waiting = new AbortController();
    const one = fakeKv([w]);
    const first = collect(watchViewKey(one.kv, "j", waiting.signal), []);
    await eventually(() => expect(one.calls()).toBe(1));
    waiting.abort();
    await first;
    expect(w.stopped).toBe(true);

    const backingOff = new AbortController();
    const { kv, calls } = fakeKv([new Error("down")]);
    const second = collect(watchViewKey(kv, "j", backingOff.signal, { initialBackoffMs: 60_000 }), []);
    await eventually(() => expect(calls()).toBe(1));
    backingOff.abort();
    await second; // does not wait out the minute
  });
});
