import { describe, expect, it } from "vitest";
import type { Decision, JobEvent, StoredEvent } from "@jobs/core";
import { cancelled, JOB_ID, progressed, requested, started } from "@jobs/core/testing";
import { EventConflictError, lastEventSeq } from "../src/event-log.ts";
import { handleCommand, type ConditionalAppend, type JobState } from "../src/handle-command.ts";

/** A job's events in memory, with the server's conditional append; `race` stores another writer's event before the next append. */
function memoryLog(...initial: JobEvent[]) {
  const events: StoredEvent[] = initial.map((event, i) => ({ seq: i + 1, event }));
  const ids = new Map<string, number>();
  let reads = 0;
  const races: JobEvent[] = [];
  const store = (event: JobEvent, msgId: string) => {
    const seq = events.length + 1;
    events.push({ seq, event });
    ids.set(msgId, seq);
    return seq;
  };
  const append: ConditionalAppend = async ({ event, msgId }, expected) => {
    const race = races.shift();
    if (race) store(race, `race-${events.length}`);
    const earlier = ids.get(msgId);
    if (earlier !== undefined) return { seq: earlier, duplicate: true };
    if (lastEventSeq(events) !== expected) throw new EventConflictError(JOB_ID, expected);
    return { seq: store(event, msgId), duplicate: false };
  };
  return {
    events,
    reads: () => reads,
    race: (...e: JobEvent[]) => races.push(...e),
    reader: { readForUpdate: async (): Promise<JobState> => (reads++, { events: [...events], lastEventSeq: lastEventSeq(events) }) },
    append,
  };
}

/** Cancels unless ended: the shape of every decider. */
const cancelUnlessEnded = (events: readonly StoredEvent[]): Decision<string> =>
  events.some((e) => e.event.type === "JobFinished") ? { reject: "already ended" } : { append: { event: cancelled(1), msgId: "cancel" } };

describe("handleCommand", () => {
  it("reads, decides and appends at the sequence it read", async () => {
    const log = memoryLog(requested(), started(1));
    const result = await handleCommand(log.reader, JOB_ID, cancelUnlessEnded, { append: log.append });
    expect(result).toMatchObject({ kind: "appended", seq: 3, duplicate: false, state: { lastEventSeq: 3 } });
    expect(result.state.events.map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
    expect(log.reads()).toBe(1);
  });

  it("decides on what the caller knows without reading", async () => {
    const log = memoryLog(requested());
    await handleCommand(log.reader, JOB_ID, cancelUnlessEnded, { append: log.append, known: { events: [...log.events], lastEventSeq: 0 } });
    expect(log.reads()).toBe(0);
  });

  it("answers the decider's refusal and stores nothing", async () => {
    const log = memoryLog(requested(), cancelled(0));
    expect(await handleCommand(log.reader, JOB_ID, cancelUnlessEnded, { append: log.append })).toMatchObject({ kind: "rejected", rejection: "already ended" });
    expect(log.events).toHaveLength(2);
  });

  it("reads and decides again when another event got in first: stored after it, or refused", async () => {
    const progressing = memoryLog(requested(), started(1));
    progressing.race(progressed(1, 50));
    expect(await handleCommand(progressing.reader, JOB_ID, cancelUnlessEnded, { append: progressing.append })).toMatchObject({ kind: "appended", seq: 4 });
    expect(progressing.reads()).toBe(2);

    const ending = memoryLog(requested(), started(1));
    ending.race(cancelled(1, { message: "someone else" }));
    expect(await handleCommand(ending.reader, JOB_ID, cancelUnlessEnded, { append: ending.append })).toMatchObject({ kind: "rejected" });
    expect(ending.events.filter((e) => e.event.type === "JobFinished")).toHaveLength(1);
  });

  it("gives up with EventConflictError after maxTries lost races, storing nothing of its own", async () => {
    const log = memoryLog(requested(), started(1));
    log.race(progressed(1, 10), progressed(1, 20), progressed(1, 30));
    await expect(handleCommand(log.reader, JOB_ID, cancelUnlessEnded, { append: log.append, maxTries: 3 })).rejects.toBeInstanceOf(EventConflictError);
    expect(log.events.map((e) => e.event.type)).toEqual(["JobRequested", "JobStarted", "JobProgress", "JobProgress", "JobProgress"]);
  });

  it("takes a duplicate as its own write, or as another writer's when told so (then decides again)", async () => {
    const own = memoryLog(requested());
    await own.append({ event: cancelled(0), msgId: "cancel" }, 0);
    expect(await handleCommand(own.reader, JOB_ID, () => ({ append: { event: cancelled(0), msgId: "cancel" } }), { append: own.append, known: { events: own.events.slice(0, 1), lastEventSeq: 0 } })).toMatchObject({
      kind: "appended",
      duplicate: true,
    });

    const other = memoryLog(requested());
    await other.append({ event: cancelled(0), msgId: "cancel" }, 0);
    const result = await handleCommand(other.reader, JOB_ID, cancelUnlessEnded, { append: other.append, known: { events: other.events.slice(0, 1), lastEventSeq: 0 }, duplicateIsAnotherWriters: true });
    expect(result).toMatchObject({ kind: "rejected", rejection: "already ended" });
  });
});
