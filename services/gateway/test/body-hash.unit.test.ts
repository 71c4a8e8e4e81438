import { describe, expect, it } from "vitest";
import { bodyHash, canonicalJson } from "../src/http/body-hash.ts";

describe("canonicalJson and bodyHash", () => {
  it("sorts object keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it("is JSON that parses back to the same value", () => {
    const value = { "ünï \"quoted\"": "✓\n", n: -0.5, big: 1e21, list: [true, false, null, "x"], empty: {}, none: [] };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  it("hashes equal JSON values alike, whatever their key order or spacing", () => {
    const a = JSON.parse('{"type":"sum","params":{"a":1,"b":2}}');
    const b = JSON.parse('{ "params": { "b": 2.0, "a": 1 },\n "type": "sum" }');
    expect(bodyHash(a)).toBe(bodyHash(b));
    expect(bodyHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("tells apart values that differ anywhere", () => {
    const base = { type: "sum", params: { a: 1, b: 2 } };
    const others = [
      { type: "sum", params: { a: 1, b: 3 } },
      { type: "sum", params: { a: 1, b: "2" } },
      { type: "sum", params: { a: 1, b: 2 }, meta: {} },
      { type: "sum", params: [1, 2] },
      { type: "sum", params: { a: 1, b: 2, c: null } },
    ];
    for (const other of others) expect(bodyHash(other)).not.toBe(bodyHash(base));
    expect(bodyHash([1, 2])).not.toBe(bodyHash([2, 1]));
  });
});
