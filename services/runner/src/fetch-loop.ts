import type { JetStreamClient } from "@jobs/nats";
import { sleep } from "@jobs/service";
import type { Logger } from "pino";
import type { Consumer, JsMsg } from "./nats-types.ts";
import type { Slots } from "./slots.ts";
import { FetchedAhead, type FetchAheadOptions, type Fetched } from "./fetched-ahead.ts";
import type { JobSource } from "./job-sources.ts";

/**
 * Pulls from every job source (job-sources.ts) only what the runner can start now, plus,
 * while its jobs are short, up to `ahead.limit` more that start as slots free (see
 * fetched-ahead.ts), highest priority first. While the runner has room, every source has
 * a pull open, of at least one message: that is how a high-priority job reaches a runner
 * whose room the normal queue's pull has claimed; what comes beyond the room waits its
 * turn by priority and is handed back if it waits too long. With no room, a source pulls
 * only a message that would start before a lower-priority one already waiting here
 * (FetchedAhead.wouldOvertake): without that, a runner whose one slot is busy would take
 * a low job, fetched ahead, before a high one that came meanwhile. Fetch errors (missed heartbeats, NATS away, consumer gone) are logged, backed off and
 * answered by getting the consumer again; this loop never rejects. After `stopping`
 * aborts, the fetches in flight are allowed to expire and whatever they still bring, or
 * still waits for a slot, is handed back at once with a nak (closing a fetch early
 * could strand a message for ack_wait).
 */
export async function fetchLoop(opts: {
  js: JetStreamClient;
  sources: readonly JobSource[];
  slots: Slots;
  log: Logger;
  expiresMs: number;
  stopping: AbortSignal;
  ahead: FetchAheadOptions;
  onMessage: (msg: JsMsg, source: JobSource) => void;
}): Promise<void> {
  const { slots, stopping } = opts;
  // What each source said it still holds (the last message's `pending`), so that nothing
  // of a lower priority takes a slot or a pull while a higher one is a pull away. A hint
  // lasts PENDING_HINT_MS: other runners may take those messages first.
  const pending = new Map<JobSource, { n: number; at: number }>();
  const heldFor = () => {
    const fresh = performance.now() - PENDING_HINT_MS;
    return Math.min(...[...pending].filter(([, p]) => p.n > 0 && p.at > fresh).map(([s]) => s.rank));
  };
  const fetched = new FetchedAhead<FromSource>(slots, ({ msg, source }) => opts.onMessage(msg, source), { ...opts.ahead, log: opts.log, heldFor });
  const staleCheck = setInterval(
    () => {
      fetched.handBackStale();
      // Hints that lapsed let what they held back go on.
      fetched.pump();
      slots.notify();
    },
    Math.max(50, Math.min(PENDING_HINT_MS, opts.ahead.maxWaitMs / 4)),
  );
  // A stopping runner starts nothing more: what waits goes back at once.
  stopping.addEventListener("abort", () => fetched.handBackAll(), { once: true });
  const claims = new ClaimedRoom();
  try {
    await Promise.all(
      opts.sources.map((source) =>
        sourceLoop({
          ...opts,
          source,
          fetched,
          claims,
          heldFor,
          add: (msg) => {
            pending.set(source, { n: msg.info.pending, at: performance.now() });
            fetched.add({ msg, rank: source.rank, source });
          },
          drained: () => {
            // A pull that ended with fewer than it asked: whatever the last message said, the source is empty for us now.
            if ((pending.get(source)?.n ?? 0) === 0) return;
            pending.delete(source);
            fetched.pump();
            slots.notify();
          },
        }),
      ),
    );
  } finally {
    clearInterval(staleCheck);
    fetched.handBackAll();
  }
}

/** The room the sources' open pulls have claimed beyond the one message each may always ask for. */
/** How long a source's word that it holds more messages holds back lower priorities. */
const PENDING_HINT_MS = 250;

interface FromSource extends Fetched {
  source: JobSource;
}

class ClaimedRoom {
  total = 0;
}

async function sourceLoop(opts: {
  js: JetStreamClient;
  source: JobSource;
  slots: Slots;
  log: Logger;
  expiresMs: number;
  stopping: AbortSignal;
  fetched: FetchedAhead<FromSource>;
  claims: ClaimedRoom;
  heldFor: () => number;
  add: (msg: JsMsg) => void;
  drained: () => void;
}): Promise<void> {
  const { js, source, slots, stopping, fetched, claims } = opts;
  const log = opts.log.child({ source: source.name });
  let consumer: Consumer | null = null;
  let backoff = 250;
  let productive = true;
  while (!stopping.aborted) {
    // A source waits while a higher one holds more for us: its pull would only fill the room first.
    await slots.waitFor(() => source.rank <= opts.heldFor() && (fetched.room() > 0 || fetched.wouldOvertake(source.rank)), stopping);
    if (stopping.aborted) break;
    // At least one message; more only from the room no other pull has claimed, and only
    // for a source that brought something last time: an empty queue's long pull would
    // otherwise hold the room while the busy one pulls one message at a time.
    const claimed = productive ? Math.max(0, fetched.room() - claims.total) : 0;
    const max = Math.max(1, claimed);
    claims.total += claimed;
    let unclaimed = claimed;
    try {
      consumer ??= await js.consumers.get(source.stream, source.consumer);
      const batch = await consumer.fetch({ max_messages: max, expires: opts.expiresMs });
      let got = 0;
      for await (const msg of batch) {
        got++;
        if (unclaimed > 0) {
          unclaimed--;
          claims.total--;
        }
        if (stopping.aborted) msg.nak();
        else opts.add(msg);
      }
      if (got < max) opts.drained();
      productive = got > 0;
      backoff = 250;
    } catch (err) {
      log.warn({ err, retryInMs: backoff }, "fetching jobs failed; getting the consumer again");
      consumer = null;
      await sleep(backoff, stopping);
      backoff = Math.min(backoff * 2, 10_000);
    } finally {
      claims.total -= unclaimed;
    }
  }
}
