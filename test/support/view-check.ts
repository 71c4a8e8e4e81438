import { expect } from "vitest";
import type { JobNames } from "@jobs/core";
import { jetstreamManager, openViewBucket, type NatsConnection } from "@jobs/nats";
import { rebuildView, type RebuildSummary } from "../../services/projector/src/index.ts";
import { createLogger } from "../../packages/service/src/index.ts";
import { eventually } from "./eventually.ts";

/**
 * Whether the live view equals a fold of the stream: waits until the projectors have
 * folded and acked every event, then runs the rebuild (as `pnpm projector:rebuild`
 * does) and returns what it found. A healthy live view leaves it nothing to write.
 */
export async function rebuildAfterCatchUp(nc: NatsConnection, names: JobNames, logs: () => string): Promise<RebuildSummary> {
  const jsm = await jetstreamManager(nc);
  await eventually(
    async () => {
      const info = await jsm.consumers.info(names.stream, names.projectorConsumer);
      expect({ pending: info.num_pending, unacked: info.num_ack_pending }).toEqual({ pending: 0, unacked: 0 });
    },
    { timeoutMs: 45_000, intervalMs: 200 },
  ).catch((err: Error) => {
    throw new Error(`the projector did not catch up: ${err.message}\n${logs()}`);
  });
  return rebuildView({ nc, names, kv: await openViewBucket(nc, names), log: createLogger("rebuild-check", "warn") });
}

/** The rebuild found every live view equal to the fold of the stream: nothing created, behind, differing or orphaned. */
export function expectViewsMatchRebuild(summary: RebuildSummary): void {
  const { jobs } = summary;
  expect(summary, JSON.stringify(summary)).toMatchObject({ written: 0, created: 0, behind: 0, differed: 0, ahead: 0, orphansRemoved: 0, equal: jobs });
}
