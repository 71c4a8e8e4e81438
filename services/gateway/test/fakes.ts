import { decodeEvent, InvalidEventError, type JobTypeDescriptor } from "@jobs/core";
import { loadJobTypes, toDescriptor } from "../../runner/src/index.ts";
import { claimKey } from "../src/nats/idempotency-store.ts";
import { EventNotStoredError, type ClaimResult, type IdempotencyClaim, type IdempotencyStore, type JobTypes, type Readiness } from "../src/ports.ts";

/**
 * In-memory stand-ins for the gateway's ports: the API tests run through `inject`
 * against these and never touch NATS. contract/ holds what they promise, and the same
 * suites run against the NATS adapters (ports-on-nats.int.test.ts): where the contract
 * leaves a choice ("may"), a switch here picks it, so a test can try each.
 */

export { DUPLICATE_WINDOW_MS, FakeJobStore, SAMPLE_PARAMS, type Outage } from "./fake-job-store.ts";
import type { Outage } from "./fake-job-store.ts";

/**
 * Idempotency-Key claims in a Map: the first claim of an (app, key) wins, as the KV
 * create does; keys are the adapter's own (claimKey: an application name that cannot be
 * a key is refused), and a claim comes back as JSON read back and checked.
 */
export class FakeIdempotencyStore implements IdempotencyStore {
  readonly claims = new Map<string, IdempotencyClaim>();
  /** When set, claim rejects as a NATS outage would, having claimed the key or not (see Outage). */
  failClaims: Outage = false;

  async claim(app: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult> {
    const k = FakeIdempotencyStore.keyOf(app, key);
    if (this.failClaims === "dropped") throw new EventNotStoredError("fake outage: no responders");
    const existing = this.claims.get(k);
    if (existing === undefined) this.claims.set(k, JSON.parse(JSON.stringify(claim)) as IdempotencyClaim);
    if (this.failClaims === "stored") throw new EventNotStoredError("fake outage: the ack was lost");
    if (existing === undefined) return { status: "claimed" };
    const { bodyHash, request } = JSON.parse(JSON.stringify(existing)) as IdempotencyClaim;
    const decoded = decodeEvent(JSON.stringify(request));
    if (decoded.type !== "JobRequested") throw new InvalidEventError([`malformed Idempotency-Key claim ${k}`]);
    return { status: "existing", bodyHash, request: decoded };
  }

  static keyOf(app: string, key: string): string {
    return claimKey(app, key);
  }
}

/** The catalogue of job types; `announce` is a runner starting with another type. */
export class FakeJobTypes implements JobTypes {
  private readonly types = new Map<string, JobTypeDescriptor>();
  constructor(descriptors: JobTypeDescriptor[] = BUILT_IN_TYPES) {
    for (const d of descriptors) this.announce(d);
  }
  announce(d: JobTypeDescriptor): void {
    this.types.set(d.name, d);
  }
  list(): JobTypeDescriptor[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  get(name: string): JobTypeDescriptor | undefined {
    return this.types.get(name);
  }
}

export class FakeReadiness implements Readiness {
  ready = true;
  reason = "fake: NATS disconnected";
  async check(): Promise<{ ready: boolean; reason?: string }> {
    return this.ready ? { ready: true } : { ready: false, reason: this.reason };
  }
}

/** The job types a runner announces (not its test-only ones), as it announces them: the API tests see the runner's own schemas. */
export const BUILT_IN_TYPES: JobTypeDescriptor[] = (await loadJobTypes({ includeTestOnly: false })).map(toDescriptor);
