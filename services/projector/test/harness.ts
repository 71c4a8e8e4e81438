import { expect } from "vitest";
import { foldEvents, jobNames, newJobId, type JobEvent, type JobNames, type JobView, type StoredEvent } from "@jobs/core";
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
  type JetStreamManager,
  type KV,
  type NatsConnection,
} from "@jobs/nats";
import { createLogger, type Logger } from "@jobs/service";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { startProjector, type Projector } from "../src/projector.ts";
import { unplaced } from "./fake-index.ts";
import { jobLife } from "./job-lives.ts";

/**
 * A real nats-server with the projector's stream, consumer and bucket under a fresh
 * prefix, plus a publisher that remembers every stored event so a test can fold each
 * job itself and compare with the bucket.
 */
export interface Harness {
  server: NatsServerHandle;
  names: JobNames;
  nc: NatsConnection;
  jsm: JetStreamManager;
  kv: KV;
  views: ViewStore;
  /** The listing index bucket. */
  index: IndexStore;
  events: EventLog;
  log: Logger;
  /** Every stored event per job, in stream order (duplicates dropped by the server excluded). */
  stored: Map<string, StoredEvent[]>;
  append(event: JobEvent, msgId?: string): Promise<void>;
  startProjector(): Projector;
  dispose(): Promise<void>;
}

export async function startHarness(label: string): Promise<Harness> {
  const server = await startNatsServer();
  const names = jobNames(testPrefix(label));
  const log = createLogger("projector-test", process.env.TEST_LOG_LEVEL ?? "silent");
  const nc = await connectNats({ servers: server.url, name: "projector-test", log });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names);
  await ensureProjectorConsumer(jsm, names);
  const kv = await openViewBucket(nc, names);
  const index = new IndexStore(await openIndexBucket(nc, names), names);
  const events = new EventLog(jetstream(nc), jsm, names);
  const stored = new Map<string, StoredEvent[]>();
  const projectors: Projector[] = [];
  let msgIds = 0;
  return {
    server,
    names,
    nc,
    jsm,
    kv,
    views: new ViewStore(kv),
    index,
    events,
    log,
    stored,
    async append(event, msgId = `${event.jobId}:${event.type}:${++msgIds}`) {
      const { seq, duplicate } = await events.append(event, msgId, { timeoutMs: 20_000 });
      if (duplicate) return;
      const list = stored.get(event.jobId) ?? [];
      list.push({ seq, event });
      list.sort((a, b) => a.seq - b.seq); // concurrent appends resolve in any order
      stored.set(event.jobId, list);
    },
    startProjector() {
      const p = startProjector({ nc, names, views: new ViewStore(kv), index, history: events, log });
      projectors.push(p);
      return p;
    },
    async dispose() {
      await Promise.all(projectors.map((p) => p.stop()));
      await nc.close();
      await server.dispose();
    },
  };
}

/**
 * Publishes the lives of `count` jobs interleaved: round r publishes the r-th event of
 * every job, concurrently. Every fifth job gets its second event published twice with
 * another message id (a real duplicate in the stream), every job its first event twice
 * with the same message id (dropped by the server).
 */
export async function publishJobs(h: Harness, count: number, opts: { concurrency?: number } = {}): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newJobId());
  const lives = ids.map((id, i) => jobLife(id, i));
  const rounds = Math.max(...lives.map((l) => l.length));
  for (let r = 0; r < rounds; r++) {
    const sends: (() => Promise<void>)[] = [];
    lives.forEach((life, i) => {
      const event = life[r];
      if (event === undefined) return;
      const msgId = `${event.jobId}:${r}`;
      sends.push(() => h.append(event, msgId));
      if (r === 0) sends.push(() => h.append(event, msgId));
      if (r === 1 && i % 5 === 0) sends.push(() => h.append(event, `${msgId}:again`));
    });
    await inChunks(sends, opts.concurrency ?? 200);
  }
  return ids;
}

async function inChunks(tasks: (() => Promise<void>)[], size: number): Promise<void> {
  for (let i = 0; i < tasks.length; i += size) await Promise.all(tasks.slice(i, i + size).map((t) => t()));
}

/** The view each job must have: the fold of its stored events. */
export function expectedView(h: Harness, jobId: string): JobView | null {
  return foldEvents(h.stored.get(jobId) ?? []);
}

/** Asserts that the bucket holds exactly the fold of every published job (apart from its place in the index). */
export async function expectViewsFolded(h: Harness, jobIds: readonly string[]): Promise<void> {
  const mismatches: string[] = [];
  await Promise.all(
    jobIds.map(async (id) => {
      const actual = unplaced((await h.views.get(id))?.view);
      const expected = expectedView(h, id);
      try {
        expect(actual).toEqual(expected);
      } catch {
        mismatches.push(`${id}: got ${JSON.stringify(actual)}\n  want ${JSON.stringify(expected)}`);
      }
    }),
  );
  expect(mismatches.length, mismatches.slice(0, 3).join("\n")).toBe(0);
}

/** Every delivered event was acked and none is waiting: the projector has caught up. */
export async function expectConsumerDrained(h: Harness): Promise<void> {
  const info = await h.jsm.consumers.info(h.names.stream, h.names.projectorConsumer);
  expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({ pending: 0, ackPending: 0 });
}
