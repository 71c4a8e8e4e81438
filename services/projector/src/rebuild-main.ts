import { jobNames } from "@jobs/core";
import { connectNats, ensureStream, jetstreamManager, openIndexBucket, openViewBucket } from "@jobs/nats";
import { createLogger, exitOnBadStart } from "@jobs/service";
import { loadProjectorConfig } from "./config.ts";
import { rebuildView, type RebuildSummary } from "./rebuild.ts";

/**
 * `pnpm projector:rebuild`: one shot. Rebuilds the view bucket and the listing index
 * from the first event of the stream, prints what it found (drift shows up as
 * "differed") and exits 0. Safe to run while live projectors are folding.
 */
const CONNECT_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const config = loadProjectorConfig();
  const log = createLogger("projector-rebuild", config.LOG_LEVEL);
  const names = jobNames(config.JOBS_PREFIX);
  // connectNats waits for a server forever (right for services); a one-shot command says so and exits.
  const unreachable = setTimeout(() => {
    console.error(`rebuild failed: no NATS server answered at ${config.NATS_URL} within ${CONNECT_TIMEOUT_MS / 1000} s`);
    process.exit(1);
  }, CONNECT_TIMEOUT_MS);
  const nc = await connectNats({ servers: config.NATS_URL, name: "projector-rebuild", log });
  clearTimeout(unreachable);
  try {
    const replicas = { replicas: config.JOBS_REPLICAS };
    await ensureStream(await jetstreamManager(nc), names, replicas);
    const kv = await openViewBucket(nc, names, replicas);
    const summary = await rebuildView({ nc, names, kv, index: await openIndexBucket(nc, names, replicas), log });
    log.info({ summary }, "rebuild done");
    process.stdout.write(formatSummary(names.stream, names.viewBucket, summary));
  } finally {
    await nc.drain();
  }
}

export function formatSummary(stream: string, bucket: string, s: RebuildSummary): string {
  const rows: [string, number | string][] = [
    ["events read", `${s.eventsRead} (stream ${stream} up to seq ${s.lastSeq})`],
    ["undecodable events skipped", s.undecodable],
    ["events without a JobRequested", s.orphanEvents],
    ["jobs", s.jobs],
    ["views written", s.written],
    ["  created (no view)", s.created],
    ["  behind the stream", s.behind],
    ["  differed from the live view", s.differed],
    ["  of another fold version", s.outdated],
    ["views already equal", s.equal],
    ["views ahead (live projector newer)", s.ahead],
    ["orphan views removed", s.orphansRemoved],
    ["index entries appended", s.indexAppended],
    ["index entries corrected", s.indexCorrected],
    ["index entries removed", s.indexRemoved],
    ["duration", `${(s.durationMs / 1000).toFixed(2)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `rebuild of ${bucket}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}

main().then(
  () => process.exit(0),
  (err: unknown) => exitOnBadStart("projector:rebuild", err),
);
