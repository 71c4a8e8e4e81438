import type { Logger } from "pino";
import type { JsMsg } from "./nats-types.ts";
import type { Slots } from "./slots.ts";

export interface FetchAheadOptions {
  /** Messages held beyond the free slots at most (0: never fetch ahead). */
  limit: number;
  /** Fetch ahead only while the recent jobs held their slot for less than this (ms). */
  shortJobMs: number;
  /** A message fetched ahead that waits longer than this for a slot is handed back (ms). */
  maxWaitMs: number;
}

/** A message fetched, with its source's rank (0 first: the priority it was dispatched with). */
export interface Fetched {
  msg: JsMsg;
  rank: number;
}

/**
 * Messages fetched before a slot was free for them, started as slots free: the lowest
 * rank (highest priority) first, in arrival order within a rank. Fetching ahead takes the pull's round trip out of each slot's cycle when jobs
 * are short; with long jobs it would only park jobs in a busy runner while another
 * runner idles, so:
 * - it is on only while the recent jobs were short (`Slots.recentJobMs < shortJobMs`);
 * - a message that still waits after `maxWaitMs` (a long job came along) is handed back
 *   at once (nak, no delay) for another runner, and fetching ahead pauses until one of
 *   this runner's jobs ends; `maxWaitMs` stays well inside the consumer's ack wait, so
 *   a waiting message never needs a heartbeat.
 */
export class FetchedAhead<T extends Fetched = Fetched> {
  private readonly waiting: Array<{ item: T; since: number }> = [];
  /** Set by a hand-back, cleared when a job ends: no fetching ahead again while only long jobs run. */
  private paused = false;

  private readonly slots: Slots;
  private readonly start: (fetched: T) => void;
  private readonly opts: FetchAheadOptions & { log: Logger; now?: () => number; heldFor?: () => number };

  /**
   * `heldFor()`: the best (lowest) rank of a source known to hold more messages for this
   * runner to pull (Infinity: none). A waiting message of a worse rank does not take a
   * free slot meanwhile: the better one is a pull away (fetch-loop.ts keeps it current).
   */
  constructor(
    slots: Slots,
    start: (fetched: T) => void,
    opts: FetchAheadOptions & { log: Logger; now?: () => number; heldFor?: () => number },
  ) {
    this.slots = slots;
    this.start = start;
    this.opts = opts;
    slots.onFree(() => {
      this.paused = false;
      this.pump();
    });
  }

  /** Messages waiting for a slot. */
  get length(): number {
    return this.waiting.length;
  }

  /** How many more messages the runner may hold now: the free slots, plus the fetch-ahead allowance while jobs are short. */
  room(): number {
    const recent = this.slots.recentJobMs;
    const ahead = !this.paused && recent !== null && recent < this.opts.shortJobMs ? this.opts.limit : 0;
    return this.slots.free + ahead - this.waiting.length;
  }

  /**
   * Whether a message of `rank` would now start before something that waits: something of
   * a lower priority (higher rank) waits, and fewer of `rank` or better wait than that.
   * Then a source of `rank` may pull one more even when there is no room (fetch-loop.ts).
   */
  wouldOvertake(rank: number): boolean {
    let better = 0;
    let worse = 0;
    for (const { item } of this.waiting) {
      if (item.rank > rank) worse++;
      else better++;
    }
    return worse > better;
  }

  /** Starts the message if a slot is free and nothing of its rank or lower waits before it; else it waits its turn. */
  add(item: T): void {
    const entry = { item, since: this.now() };
    // Kept sorted by rank, arrival order within one: the first entry is always the next to start.
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1]!.item.rank > item.rank) i--;
    this.waiting.splice(i, 0, entry);
    this.pump();
    this.slots.notify(); // a source of higher priority may now overtake it (wouldOvertake)
  }

  /** Hands back what waited longer than `maxWaitMs`; returns how many. */
  handBackStale(): number {
    const oldest = this.now() - this.opts.maxWaitMs;
    let n = 0;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i]!.since > oldest) continue;
      this.waiting.splice(i, 1)[0]!.item.msg.nak();
      n++;
    }
    if (n > 0) {
      // The average only learns of a long job when it ends: until a job ends, fetching
      // ahead again would fetch these very messages back.
      this.paused = true;
      this.opts.log.debug({ handedBack: n }, "jobs fetched ahead waited too long for a slot; handed back for other runners");
      this.slots.notify();
    }
    return n;
  }

  /** Hands back everything still waiting (the runner stops). */
  handBackAll(): void {
    for (const { item } of this.waiting.splice(0)) item.msg.nak();
  }

  /** Starts what may start now (a source's news: see heldFor). */
  pump(): void {
    const held = this.opts.heldFor?.() ?? Infinity;
    while (this.slots.free > 0 && this.waiting.length > 0 && this.waiting[0]!.item.rank <= held) {
      this.start(this.waiting.shift()!.item);
    }
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }
}
