import type { JobTypeDescriptor } from "@jobs/core";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../../test/support/eventually.ts";
import { loadJobTypes, toDescriptor } from "../../../runner/src/index.ts";
import type { JobTypes } from "../../src/ports.ts";

/** What every JobTypes promises (ports.ts: a live copy of what runners announced), run against the fake and the NATS catalogue. */
export interface JobTypesSubject {
  types: JobTypes;
  /** A runner announces a type (a new one, or a new schema of a known one). */
  announce(descriptor: JobTypeDescriptor): Promise<void>;
  close(): Promise<void>;
}

/** Every type the runner has, its test-only ones too, as it announces them. */
const RUNNER_TYPES = (await loadJobTypes({ includeTestOnly: true })).map(toDescriptor);

export function jobTypesContract(name: string, make: (announced: JobTypeDescriptor[]) => Promise<JobTypesSubject>): void {
  describe(`JobTypes contract: ${name}`, () => {
    let subject: JobTypesSubject | undefined;
    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });

    it("lists the announced types by name, each exactly as announced; get finds a type by its name and nothing else", async () => {
      const { types } = (subject = await make(RUNNER_TYPES));
      expect(types.list()).toEqual([...RUNNER_TYPES].sort((a, b) => a.name.localeCompare(b.name)));
      for (const d of RUNNER_TYPES) expect(types.get(d.name)).toEqual(d);
      for (const other of ["nope", "SUM", "sum ", ""]) expect(types.get(other)).toBeUndefined();
    });

    it("follows the runners: a type announced later is listed, a new schema of a type replaces the old one", async () => {
      const sum = RUNNER_TYPES.find((d) => d.name === "sum")!;
      const { types, announce } = (subject = await make([sum]));
      const later: JobTypeDescriptor = { name: "resize", description: "resizes an image", params: { type: "object", properties: { width: { type: "integer" } } } };
      const newSum: JobTypeDescriptor = { ...sum, description: "a + b, again" };
      await announce(later);
      await announce(newSum);
      await eventually(() => expect(types.list()).toEqual([later, newSum]));
    });
  });
}
