import { jobNames } from "@jobs/core";
import { connect, openTypesBucket } from "@jobs/nats";

/**
 * Waits until the runners have announced at least one job type in the types bucket, so
 * the gateway `pnpm start` launches next never answers "unknown job type" to a client
 * that posts as soon as it is ready. Bounded: a runner that cannot start must not keep
 * the gateway down, so after `timeoutMs` it resolves false and the caller goes on.
 */
export async function jobTypesAnnounced(natsUrl: string, prefix: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: natsUrl.split(","), timeout: 2_000 });
  try {
    const kv = await openTypesBucket(nc, jobNames(prefix));
    while (Date.now() < deadline) {
      if ((await kv.status()).values > 0) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  } finally {
    await nc.close();
  }
}
