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

/**
 * Messages fetched before a slot was free for them, started in arrival order as slots
 * free. Fetching ahead takes the pull's round trip out of each slot's cycle when jobs
 * are short; with long jobs it would only park jobs in a busy runner while another
 * runner idles, so:
 * - it is on only while the recent jobs were short (`Slots.recentJobMs < shortJobMs`);
 * - a message that still waits after `maxWaitMs` (a long job came along) is handed back
 *   at once (nak, no delay) for another runner, and fetching ahead pauses until one of
 *   this runner's jobs ends; `maxWaitMs` stays well inside the consumer's ack wait, so
 *   a waiting message never needs a heartbeat.
 */
export class FetchedAhead {
  private readonly waiting: Array<{ msg: JsMsg; since: number }> = [];
  /** Set by a hand-back, cleared when a job ends: no fetching ahead again while only long jobs run. */
  private paused = false;

  private readonly slots: Slots;
  private readonly start: (msg: JsMsg) => void;
  private readonly opts: FetchAheadOptions & { log: Logger; now?: () => number };

  constructor(
    slots: Slots,
    start: (msg: JsMsg) => void,
    opts: FetchAheadOptions & { log: Logger; now?: () => number },
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

  /** Starts `msg` if a slot is free and nothing waits before it; else it waits its turn. */
  add(msg: JsMsg): void {
    this.waiting.push({ msg, since: this.now() });
    this.pump();
  }

  /** Hands back what waited longer than `maxWaitMs`; returns how many. */
  handBackStale(): number {
    const oldest = this.now() - this.opts.maxWaitMs;
    let n = 0;
    while (this.waiting.length > 0 && this.waiting[0]!.since <= oldest) {
      this.waiting.shift()!.msg.nak();
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
    for (const { msg } of this.waiting.splice(0)) msg.nak();
  }

  private pump(): void {
    while (this.slots.free > 0 && this.waiting.length > 0) this.start(this.waiting.shift()!.msg);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }
}
