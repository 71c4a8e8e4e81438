import { jobNames } from "@jobs/core";
import { connect, isNotFound, jetstreamManager } from "@jobs/nats";
import { sleep } from "@jobs/service";

/**
 * Waits until the runners have announced at least one job type in the types bucket, so
 * the gateway `pnpm start` launches next never answers "unknown job type" to a client
 * that posts as soon as it is ready. Bounded: a runner that cannot start must not keep
 * the gateway down, so after `timeoutMs` it resolves false and the caller goes on.
 * It only reads: the runners create the bucket (with JOBS_REPLICAS replicas), so this
 * never creates one with another count. `natsUrl` lists every server, comma-separated.
 */
export async function jobTypesAnnounced(natsUrl: string, prefix: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: natsUrl.split(",").map((s) => s.trim()).filter(Boolean), timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = `KV_${jobNames(prefix).typesBucket}`;
    while (Date.now() < deadline) {
      const values = await jsm.streams.info(stream).then(
        (info) => info.state.messages,
        (err: unknown) => {
          if (isNotFound(err)) return 0; // no runner has created it yet
          throw err;
        },
      );
      if (values > 0) return true;
      await sleep(200);
    }
    return false;
  } finally {
    await nc.close();
  }
}
