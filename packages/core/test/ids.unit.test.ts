import { describe, expect, it } from "vitest";
import { isJobId, newJobId } from "../src/ids.ts";

describe("job ids", () => {
  it("are 26 URL-safe characters", () => {
    const id = newJobId();
    expect(isJobId(id)).toBe(true);
    expect(encodeURIComponent(id)).toBe(id);
  });

  it("sort by creation time, also within one millisecond", () => {
    const ids = [newJobId(1_700_000_000_000), newJobId(1_700_000_000_000), newJobId(1_700_000_000_001), newJobId(1_800_000_000_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("rejects anything that could smuggle a wildcard or a dot into a subject", () => {
    for (const bad of ["", "*", ">", "a.b", "01HZX", "01hzxxxxxxxxxxxxxxxxxxxxxx", `${newJobId()}.x`]) expect(isJobId(bad)).toBe(false);
  });
});
