import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { TimeoutError } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { jobNames, newJobId } from "@jobs/core";
import { cancelled, progressed, requested, started } from "@jobs/core/testing";
import { losingAnswers as losingTestAnswers } from "../../../test/support/lossy-jetstream.ts";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { EventConflictError, EventLog } from "../src/event-log.ts";
import { ensureStream, streamConfig } from "../src/provision.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let log: EventLog;
const names = jobNames(testPrefix("evl"));

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names);
  log = new EventLog(jetstream(nc), jsm, names);
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe("EventLog against a real nats-server", () => {
  it("provisions a stream that keeps everything and refuses deletes", async () => {
    const info = await (await jetstreamManager(nc)).streams.info(names.stream);
    expect(info.config).toMatchObject({ retention: "limits", deny_delete: true, deny_purge: true, allow_direct: true, storage: "file" });
    expect(info.config).toMatchObject({ subjects: streamConfig(names).subjects });
    await ensureStream(await jetstreamManager(nc), names); // idempotent
  });

  it("reads back a job's events in stream order, request first", async () => {
    const id = newJobId();
    const other = newJobId();
    await log.append(requested({ jobId: id }), `${id}:requested`);
    await log.append(requested({ jobId: other }), `${other}:requested`);
    await log.append(started(1, { jobId: id }), `${id}:started:1`);
    await log.append(started(1, { jobId: other }), `${other}:started:1`);
    const events = await log.read(id);
    expect(events.map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted"]);
    expect(events.every((e) => e.event.jobId === id)).toBe(true);
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq);
    expect(await log.read(newJobId())).toEqual([]);
  });

  it("drops a re-published event with the same message id", async () => {
    const id = newJobId();
    const first = await log.append(requested({ jobId: id }), `${id}:requested`);
    const again = await log.append(requested({ jobId: id }), `${id}:requested`);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    expect(await log.read(id)).toHaveLength(1);
  });

  it("stores a job's request once, also after the duplicate window has forgotten its message id", async () => {
    const id = newJobId();
    const first = await log.append(requested({ jobId: id }), `${id}:requested`);
    // The server remembers a message id for two minutes; another id stands for a retry after that.
    await expect(log.append(requested({ jobId: id }), `${id}:requested-later`)).rejects.toBeInstanceOf(EventConflictError);
    await log.append(started(1, { jobId: id }), `${id}:started:1`);
    await expect(log.append(requested({ jobId: id }), `${id}:requested-later`)).rejects.toBeInstanceOf(EventConflictError);
    // The same message again is our own first copy, wherever the job has got to.
    expect(await log.append(requested({ jobId: id }), `${id}:requested`)).toEqual({ seq: first.seq, duplicate: true });
    expect((await log.read(id)).map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted"]);
  });

  it("reads a long history (more than one fetch batch)", async () => {
    const id = newJobId();
    await log.append(requested({ jobId: id }), `${id}:requested`);
    await log.append(started(1, { jobId: id }), `${id}:started:1`);
    for (let i = 1; i <= 1500; i++) {
      await log.append(progressed(1, (i / 1500) * 100, { jobId: id }), `${id}:p:${i}`);
    }
    const events = await log.read(id);
    expect(events).toHaveLength(1502);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("appends conditionally: exactly one of two writers expecting the same state wins", async () => {
    const id = newJobId();
    await log.append(requested({ jobId: id }), `${id}:requested`);
    const { lastEventSeq } = await log.readForUpdate(id);
    expect(lastEventSeq).toBe(0);
    const cancel = cancelled(0, { jobId: id });
    const results = await Promise.allSettled([
      log.append(started(1, { jobId: id }), `${id}:started:1`, { expectLastEventSeq: 0 }),
      log.append(cancel, `${id}:finished`, { expectLastEventSeq: 0 }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(EventConflictError);
    const after = await log.readForUpdate(id);
    expect(after.events).toHaveLength(2);
    expect(after.lastEventSeq).toBe(after.events[1]!.seq);
  });

  describe("a publish that gets no answer", () => {
    const losingAnswers = (n: number, fate: "stored" | "dropped") => {
      const lossy = losingTestAnswers(jetstream(nc), n, fate);
      return { log: new EventLog(lossy.js, jsm, names), sent: lossy.sent };
    };
    let jsm: Awaited<ReturnType<typeof jetstreamManager>>;
    beforeAll(async () => {
      jsm = await jetstreamManager(nc);
    });

    it("is sent again, and a copy stored by the unanswered try is reported stored, not duplicate", async () => {
      const id = newJobId();
      const lossy = losingAnswers(1, "stored");
      const result = await lossy.log.append(requested({ jobId: id }), `${id}:requested`, { tries: 3 });
      expect(lossy.sent()).toBe(2);
      const events = await log.read(id);
      expect(events).toHaveLength(1);
      expect(result).toEqual({ seq: events[0]!.seq, duplicate: false });
    });

    it("is sent again when it was lost on the wire, and stored once", async () => {
      const id = newJobId();
      const lossy = losingAnswers(1, "dropped");
      const result = await lossy.log.append(requested({ jobId: id }), `${id}:requested`, { tries: 2 });
      const events = await log.read(id);
      expect(events).toHaveLength(1);
      expect(result).toEqual({ seq: events[0]!.seq, duplicate: false });
    });

    it("after the last unanswered try, is reported stored when the job's subject holds it", async () => {
      const id = newJobId();
      await log.append(requested({ jobId: id }), `${id}:requested`);
      const lossy = losingAnswers(2, "stored");
      const result = await lossy.log.append(started(1, { jobId: id }), `${id}:started:1`, { tries: 2, expectLastEventSeq: 0 });
      expect(lossy.sent()).toBe(2);
      const events = await log.read(id);
      expect(events.map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted"]);
      expect(result).toEqual({ seq: events[1]!.seq, duplicate: false });
    });

    it("throws the timeout when no try was answered and nothing was stored", async () => {
      const id = newJobId();
      const lossy = losingAnswers(3, "dropped");
      await expect(lossy.log.append(requested({ jobId: id }), `${id}:requested`, { tries: 3 })).rejects.toBeInstanceOf(TimeoutError);
      expect(lossy.sent()).toBe(3);
      expect(await log.read(id)).toEqual([]);
    });

    it("still refuses a conditional write whose expectation another event broke", async () => {
      const id = newJobId();
      await log.append(requested({ jobId: id }), `${id}:requested`);
      await log.append(started(1, { jobId: id }), `${id}:started:1`, { expectLastEventSeq: 0 });
      const lossy = losingAnswers(1, "dropped");
      const cancel = cancelled(0, { jobId: id });
      await expect(lossy.log.append(cancel, `${id}:finished`, { tries: 2, expectLastEventSeq: 0 })).rejects.toBeInstanceOf(EventConflictError);
    });
  });
});
