import { encodeView, foldEvents, type JobView } from "@jobs/core";
import { JOB_ID, requested, stored } from "@jobs/core/testing";
import type { KV } from "@jobs/nats";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import { watchViewKey } from "../src/nats/view-watch.ts";

interface Entry {
  operation: "PUT" | "DEL" | "PURGE";
  length: number;
  value: Uint8Array;
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

const KEY = JOB_ID;
const job = foldEvents(stored(requested()))!;
const bytes = (text: string) => new TextEncoder().encode(text);
const put = (seq: number): Entry => {
  const value = encodeView({ ...job, seq });
  return { operation: "PUT", length: value.length, value };
};

async function collect(iter: AsyncIterable<JobView>, into: number[]): Promise<void> {
  for await (const view of iter) into.push(view.seq);
}

describe("watchViewKey", () => {
  it("yields the values put under the key, skipping deletes, empty values and values that are not a view of the key", async () => {
    const w = new FakeWatcher();
    const { kv } = fakeKv([w]);
    const errors: unknown[] = [];
    const controller = new AbortController();
    const seen: number[] = [];
    const done = collect(watchViewKey(kv, KEY, controller.signal, { onError: (e) => errors.push(e) }), seen);
    w.push(put(1));
    w.push({ operation: "DEL", length: 0, value: bytes("") });
    w.push({ operation: "PUT", length: 0, value: bytes("") });
    w.push({ operation: "PUT", length: 3, value: bytes("{x") });
    w.push({ operation: "PUT", length: 9, value: encodeView({ ...job, id: "01J00000000000000000000001", seq: 3 }) }); // another job's view
    w.push(put(4));
    await eventually(() => expect(seen).toEqual([1, 4]));
    expect(errors).toHaveLength(2); // the value that is not JSON, and the view of another key
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
    const done = collect(watchViewKey(kv, KEY, controller.signal, { initialBackoffMs: 5, onError: (e) => errors.push(e) }), seen);
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
    const first = collect(watchViewKey(one.kv, KEY, waiting.signal), []);
    await eventually(() => expect(one.calls()).toBe(1));
    waiting.abort();
    await first;
    expect(w.stopped).toBe(true);

    const backingOff = new AbortController();
    const { kv, calls } = fakeKv([new Error("down")]);
    const second = collect(watchViewKey(kv, KEY, backingOff.signal, { initialBackoffMs: 60_000 }), []);
    await eventually(() => expect(calls()).toBe(1));
    backingOff.abort();
    await second; // does not wait out the minute
  });
});
