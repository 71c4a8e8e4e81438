import { newJobId } from "@jobs/core";
import { requested } from "@jobs/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { IdempotencyClaim, IdempotencyStore } from "../../src/ports.ts";

/** What every IdempotencyStore promises (ports.ts), run against the fake and the KV adapter. */
export interface IdempotencyStoreSubject {
  store: IdempotencyStore;
  close(): Promise<void>;
}

/** A claim as POST /job makes one, with a request whose nested meta must come back exactly. */
const claimOf = (bodyHash: string): IdempotencyClaim => ({
  bodyHash,
  request: requested({ jobId: newJobId(), time: new Date().toISOString(), meta: { trace: "a/b", list: [1, "two", null, { deep: true }], "ünï": -0.5 } }),
});

export function idempotencyStoreContract(name: string, make: () => Promise<IdempotencyStoreSubject>): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let subject: IdempotencyStoreSubject | undefined;
    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });
    const open = async () => (subject = await make()).store;

    it("the first claim of a key is claimed; every later one gets that claim back: its body hash and its exact request", async () => {
      const store = await open();
      const first = claimOf("h-first");
      expect(await store.claim("alpha", "k-1", first)).toEqual({ status: "claimed" });
      for (const later of [claimOf("h-other"), first]) expect(await store.claim("alpha", "k-1", later)).toEqual({ status: "existing", ...first });
    });

    it("of concurrent claims of one key, exactly one is claimed and every other gets the winner's claim", async () => {
      const store = await open();
      const claims = Array.from({ length: 20 }, (_, i) => claimOf(`h-${i}`));
      const results = await Promise.all(claims.map((c) => store.claim("alpha", "k-burst", c)));
      const winners = results.flatMap((r, i) => (r.status === "claimed" ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = claims[winners[0]!]!;
      for (const r of results.filter((r) => r.status !== "claimed")) expect(r).toEqual({ status: "existing", ...winner });
    });

    it("keys are per application, and keys that differ at all are different claims (any printable key up to 255 characters)", async () => {
      const store = await open();
      const keys = ["k", "K", "k ", " k", 'a key ~!@#$%^&*()"{}.>', "k".repeat(255)];
      for (const app of ["alpha", "beta"]) {
        for (const key of keys) expect(await store.claim(app, key, claimOf(`${app}:${key}`)), `${app} ${key}`).toEqual({ status: "claimed" });
      }
      expect(await store.claim("beta", "K", claimOf("again"))).toMatchObject({ status: "existing", bodyHash: "beta:K" });
    });

    it("refuses an application name that cannot be part of a key (the gateway's config admits none)", async () => {
      const store = await open();
      for (const app of ["a.b", "*", ">", ""]) await expect(store.claim(app, "k", claimOf("h")), app).rejects.toThrow();
    });
  });
}
