import { afterEach, describe, expect, it } from "vitest";
import type { Readiness } from "../../src/ports.ts";

/** What every Readiness promises (ports.ts), run against the fake and the NATS probe. */
export interface ReadinessSubject {
  readiness: Readiness;
  close(): Promise<void>;
}

export function readinessContract(name: string, make: (store: "up" | "down") => Promise<ReadinessSubject>): void {
  describe(`Readiness contract: ${name}`, () => {
    let subject: ReadinessSubject | undefined;
    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });

    it("is ready, without a reason, while the store can take jobs", async () => {
      const { readiness } = (subject = await make("up"));
      expect(await readiness.check()).toEqual({ ready: true });
    });

    it("is not ready, with a reason for operators, while it cannot", async () => {
      const { readiness } = (subject = await make("down"));
      expect(await readiness.check()).toEqual({ ready: false, reason: expect.stringMatching(/\S/) });
    });
  });
}
