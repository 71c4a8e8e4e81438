import { jobNames } from "@jobs/core";
import {
  connectNats,
  ensureProjectorConsumer,
  ensureStream,
  EventLog,
  IndexStore,
  jetstream,
  jetstreamManager,
  openIndexBucket,
  openViewBucket,
  ViewStore,
} from "@jobs/nats";
import { createLogger, exitOnBadStart, onShutdown } from "@jobs/service";
import { loadProjectorConfig } from "./config.ts";
import { startProjector } from "./projector.ts";

/**
 * `pnpm start:projector`: provisions what it needs, folds events into the view bucket
 * and the listing index until SIGTERM/SIGINT, then stops pulling, finishes the flush
 * under way (acking only what was folded) and drains the connection. Any number of
 * these can run at once.
 */
async function main(): Promise<void> {
  const config = loadProjectorConfig();
  const log = createLogger("projector", config.LOG_LEVEL);
  const names = jobNames(config.JOBS_PREFIX);
  const nc = await connectNats({ servers: config.NATS_URL, name: "projector", log });
  const jsm = await jetstreamManager(nc);
  const replicas = { replicas: config.JOBS_REPLICAS };
  await ensureStream(jsm, names, replicas);
  await ensureProjectorConsumer(jsm, names);
  const views = new ViewStore(await openViewBucket(nc, names, replicas));
  const index = new IndexStore(await openIndexBucket(nc, names, replicas), names);
  const projector = startProjector({ nc, names, views, index, history: new EventLog(jetstream(nc), jsm, names), log });

  let stopping = false;
  onShutdown(log, async () => {
    stopping = true;
    await projector.stop();
    await nc.drain();
  });
  void nc.closed().then((err) => {
    if (stopping) return;
    log.fatal({ err }, "NATS connection closed for good");
    process.exit(1);
  });
  log.info({ stream: names.stream, consumer: names.projectorConsumer, bucket: names.viewBucket, index: names.indexBucket }, "projector started");
}

main().catch((err: unknown) => exitOnBadStart("projector", err));
