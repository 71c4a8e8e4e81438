import { describe, expect, it } from "vitest";
import { LruMap } from "../src/lru-map.ts";

const filled = (capacity: number, keys: string[]) => {
  const map = new LruMap<string, number>(capacity);
  keys.forEach((k, i) => map.set(k, i));
  return map;
};

describe("LruMap", () => {
  it("keeps at most `capacity` entries, dropping the oldest", () => {
    const map = filled(2, ["a", "b", "c"]);
    expect(map.size).toBe(2);
    expect([...map.keys()]).toEqual(["b", "c"]);
    expect(map.get("a")).toBeUndefined();
  });

  it("a get makes the key the newest, so it outlives keys set after it", () => {
    const map = filled(2, ["a", "b"]);
    expect(map.get("a")).toBe(0);
    map.set("c", 2);
    expect([...map.keys()]).toEqual(["a", "c"]);
  });

  it("a set of a present key replaces its value and makes it the newest, without evicting", () => {
    const map = filled(2, ["a", "b"]);
    map.set("a", 9);
    expect(map.size).toBe(2);
    expect([...map.keys()]).toEqual(["b", "a"]);
    expect(map.get("a")).toBe(9);
  });

  it("a get of an absent key changes nothing; delete forgets a key", () => {
    const map = filled(3, ["a", "b"]);
    expect(map.get("x")).toBeUndefined();
    expect(map.delete("a")).toBe(true);
    expect(map.delete("a")).toBe(false);
    expect([...map.keys()]).toEqual(["b"]);
  });

  it("keys may be deleted while iterating (forgetting every key with a prefix)", () => {
    const map = filled(10, ["x.1", "y.1", "x.2", "y.2"]);
    for (const key of map.keys()) if (key.startsWith("x.")) map.delete(key);
    expect([...map.keys()]).toEqual(["y.1", "y.2"]);
  });

  it("refuses a capacity that is not a positive integer", () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new LruMap(capacity)).toThrow(RangeError);
  });
});
