/**
 * How fast the projector folds a burst on this machine (a measurement, not a test):
 *   node bench/measure-throughput.ts [events] [writeConcurrency] [maxMessages]
 * Publishes ~`events` events (interleaved jobs) into a fresh nats-server, then starts a
 * projector and times it until its consumer has nothing pending or unacked.
 */
import { foldEvents, jobNames, newJobId, type StoredEvent } from "@jobs/core";
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
import { createLogger } from "@jobs/service";
import { DEFAULT_PROJECTOR_OPTIONS, startProjector } from "../services/projector/src/index.ts";
import { unplaced } from "../services/projector/test/fake-index.ts";
import { jobLife } from "../services/projector/test/job-lives.ts";
import { startNatsServer } from "../test/support/nats-server.ts";

const target = Number(process.argv[2] ?? 20_000);
const server = await startNatsServer();
const log = createLogger("measure", "warn");
const names = jobNames("measure");
const nc = await connectNats({ servers: server.url, name: "measure", log });
try {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names);
  await ensureProjectorConsumer(jsm, names);
  const kv = await openViewBucket(nc, names);
  const events = new EventLog(jetstream(nc), jsm, names);

  // Interleaved: round r publishes the r-th event of every job.
  const lives: ReturnType<typeof jobLife>[] = [];
  for (let n = 0; n < target; ) {
    const life = jobLife(newJobId(), lives.length);
    lives.push(life);
    n += life.length;
  }
  const stored = new Map<string, StoredEvent[]>();
  const publishStart = Date.now();
  for (let r = 0; lives.some((l) => l[r] !== undefined); r++) {
    const round = lives.map((l) => l[r]).filter((e) => e !== undefined);
    for (let i = 0; i < round.length; i += 1000) {
      await Promise.all(
        round.slice(i, i + 1000).map(async (e) => {
          const { seq } = await events.append(e, `${e.jobId}:${r}`);
          stored.set(e.jobId, [...(stored.get(e.jobId) ?? []), { seq, event: e }]);
        }),
      );
    }
  }
  const total = (await jsm.streams.info(names.stream)).state.messages;
  console.log(`published ${total} events of ${lives.length} jobs in ${Date.now() - publishStart} ms`);

  const foldStart = Date.now();
  const options = { writeConcurrency: Number(process.argv[3] ?? DEFAULT_PROJECTOR_OPTIONS.writeConcurrency), maxMessages: Number(process.argv[4] ?? DEFAULT_PROJECTOR_OPTIONS.maxMessages) };
  const index = new IndexStore(await openIndexBucket(nc, names), names);
  const projector = startProjector({ nc, names, views: new ViewStore(kv), index, history: events, log, options });
  for (;;) {
    const info = await jsm.consumers.info(names.stream, names.projectorConsumer);
    if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= total) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Date.now() - foldStart;
  await projector.stop();
  console.log(`folded ${total} events in ${ms} ms: ${Math.round((total / ms) * 1000)} events/s`);
  console.log(`totals ${JSON.stringify(projector.totals)} index ${JSON.stringify(projector.indexStats)}`);

  // Spot check: the bucket holds the fold of every job.
  const views = new ViewStore(kv);
  let wrong = 0;
  for (const [id, list] of stored) {
    const want = foldEvents(list.sort((a, b) => a.seq - b.seq));
    if (JSON.stringify(unplaced((await views.get(id))?.view)) !== JSON.stringify(want)) wrong++;
  }
  console.log(`views that differ from the fold: ${wrong}`);
} finally {
  await nc.close();
  await server.dispose();
}
