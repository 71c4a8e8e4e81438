import { Compile } from "typebox/compile";
import { Type } from "typebox";
import { describe, expect, it } from "vitest";
import { JobTypeDescriptor } from "@jobs/core";
import { toDescriptor } from "../src/descriptors.ts";
import { defineJobType } from "../src/job-type.ts";
import { jobTypeRegistry, loadJobTypes } from "../src/load-job-types.ts";

describe("job type registry", () => {
  it("discovers one type per file in src/job-types, test-only ones on request", async () => {
    const names = (await loadJobTypes({ includeTestOnly: false })).map((t) => t.name);
    expect(names).toEqual(["countdown", "external", "fibonacci", "pi", "sleep", "sum"]);
    const withTest = (await loadJobTypes({ includeTestOnly: true })).map((t) => t.name);
    expect(withTest).toEqual(["countdown", "external", "fibonacci", "flaky", "pi", "sleep", "sum"]);
  });

  it("announces each type with its params as plain JSON Schema", async () => {
    const check = Compile(JobTypeDescriptor);
    for (const type of await loadJobTypes({ includeTestOnly: true })) {
      const d = toDescriptor(type);
      expect(check.Check(d)).toBe(true);
      expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      // The gateway validates params with this schema: it must accept and refuse like the runner's.
      // Every type takes an object, except `external`, whose params are any JSON for the outside system.
      if (d.name === "external") expect(d.params).not.toHaveProperty("type");
      else expect(d.params).toMatchObject({ type: "object" });
    }
    const fib = toDescriptor((await loadJobTypes({ includeTestOnly: false })).find((t) => t.name === "fibonacci")!);
    const gatewayCheck = Compile(fib.params);
    expect(gatewayCheck.Check({ n: 5 })).toBe(true);
    expect(gatewayCheck.Check({ n: 100_001 })).toBe(false);
  });

  it("refuses two types with one name and names that are not valid", () => {
    const a = defineJobType({ name: "same", description: "a", params: Type.Object({}), run: () => null });
    const b = defineJobType({ name: "same", description: "b", params: Type.Object({}), run: () => null });
    expect(() => jobTypeRegistry([a, b])).toThrow(/defined twice/);
    expect(() => defineJobType({ name: "Bad Name", description: "", params: Type.Object({}), run: () => null })).toThrow(/invalid job type name/);
  });
});
