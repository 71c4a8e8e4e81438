import { createHash } from "node:crypto";
import { decodeEvent, InvalidEventError, parseJson } from "@jobs/core";
import { isWrongLastSequence, type KV } from "@jobs/nats";
import { EventNotStoredError, type ClaimResult, type IdempotencyClaim, type IdempotencyStore } from "../ports.ts";

export interface NatsIdempotencyStoreOptions {
  /** The bucket from openIdempotencyBucket (its max_age is how long a key is remembered). */
  kv: KV;
  /** Whether the NATS connection is up now (see trackConnection). */
  connected: () => boolean;
  /**
   * After a failed claim in `kv`: the bucket opened anew when it no longer exists
   * (deleted, or lost with a store), null when it does. The claim is then made once more.
   */
  reopenIfGone?: (kv: KV) => Promise<KV | null>;
}

const APP_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * KV key of a claim: `<app>.<sha256 of the key, hex>`. The app makes keys per
 * application; hashing makes any printable key a valid KV key token of fixed length.
 */
export function claimKey(app: string, key: string): string {
  // The gateway config only admits such names; anything else would split or escape the token.
  if (!APP_TOKEN.test(app)) throw new Error(`application name "${app}" cannot be a KV key token`);
  return `${app}.${createHash("sha256").update(key).digest("hex")}`;
}

/**
 * Idempotency-Key claims in a KV bucket. `kv.create` succeeds only when the key has no
 * value (expected last subject sequence 0), which the server decides: of concurrent
 * claims by any number of gateways exactly one wins. The others read the winner's claim.
 */
export class NatsIdempotencyStore implements IdempotencyStore {
  private readonly opts: NatsIdempotencyStoreOptions;
  private kv: KV;

  constructor(opts: NatsIdempotencyStoreOptions) {
    this.opts = opts;
    this.kv = opts.kv;
  }

  async claim(app: string, key: string, claim: IdempotencyClaim): Promise<ClaimResult> {
    const k = claimKey(app, key);
    // As for appends: a request made while disconnected would be queued and sent later, after its 503.
    if (!this.opts.connected()) throw new EventNotStoredError("not connected to NATS");
    try {
      return await this.claimIn(this.kv, k, claim);
    } catch (err) {
      if (err instanceof InvalidEventError) throw err; // a corrupt claim is a bug to see, not an outage
      const reopened = await this.opts.reopenIfGone?.(this.kv).catch(() => null);
      if (!reopened) throw notStored(k, err);
      this.kv = reopened;
      return this.claimIn(reopened, k, claim).catch((again: unknown) => {
        throw again instanceof InvalidEventError ? again : notStored(k, again);
      });
    }
  }

  /** Twice at most: a claim that expires (max_age) between our failed create and our get frees the key. */
  private async claimIn(kv: KV, k: string, claim: IdempotencyClaim): Promise<ClaimResult> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await kv.create(k, JSON.stringify(claim));
        return { status: "claimed" };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      const entry = await kv.get(k);
      if (entry !== null && entry.operation === "PUT") return { status: "existing", ...parseClaim(entry.string()) };
    }
    throw new Error(`Idempotency-Key claim ${k} is taken but cannot be read`);
  }
}

function notStored(k: string, err: unknown): EventNotStoredError {
  return new EventNotStoredError(`Idempotency-Key claim ${k} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function parseClaim(text: string): IdempotencyClaim {
  const value = parseJson(text) as { bodyHash?: unknown; request?: unknown } | null | undefined;
  const bodyHash = value?.bodyHash;
  const request = typeof bodyHash === "string" && value?.request ? decodeEvent(JSON.stringify(value.request)) : null;
  if (typeof bodyHash !== "string" || request?.type !== "JobRequested") {
    throw new InvalidEventError([`malformed Idempotency-Key claim: ${text.slice(0, 200)}`]);
  }
  return { bodyHash, request };
}
