import { waitUntil } from "./clock.ts";
import { percentile } from "./stats.ts";

/**
 * Pairs each accepted job (its 202, with the time it arrived) with the first time the
 * system showed it succeeded. Either can come first: a completion can in principle be
 * seen before the 202 that announced the job reaches the client.
 */
export class CompletionTracker {
  private readonly accepted = new Map<string, number>();
  private readonly succeeded = new Map<string, number>();
  private matched = 0;

  readonly expected: number;

  constructor(expected: number) {
    this.expected = expected;
  }

  readonly onAccepted = (id: string, at: number): void => {
    if (this.accepted.has(id)) return;
    this.accepted.set(id, at);
    if (this.succeeded.has(id)) this.matched++;
  };

  readonly onSucceeded = (id: string, at: number): void => {
    if (this.succeeded.has(id)) return;
    this.succeeded.set(id, at);
    if (this.accepted.has(id)) this.matched++;
  };

  get done(): number {
    return this.matched;
  }

  async waitForAll(timeoutMs: number): Promise<void> {
    await waitUntil(() => this.matched >= this.expected, timeoutMs, () => `${this.matched} of ${this.expected} jobs seen succeeded (${this.accepted.size} accepted)`);
  }

  /** Time of the last accepted job's completion. */
  lastCompletion(): number {
    let last = 0;
    for (const id of this.accepted.keys()) last = Math.max(last, this.succeeded.get(id) ?? 0);
    return last;
  }

  /** 202 -> succeeded, in ms, of every accepted job seen succeeded. */
  latencies(): number[] {
    const out: number[] = [];
    for (const [id, at] of this.accepted) {
      const doneAt = this.succeeded.get(id);
      if (doneAt !== undefined) out.push(Math.max(0, doneAt - at));
    }
    return out;
  }

  latencySummary(): { p50: number; p99: number } {
    const l = this.latencies();
    return { p50: percentile(l, 50), p99: percentile(l, 99) };
  }

  /** Ids of the accepted jobs (for the steady state's GETs). */
  ids(): string[] {
    return [...this.accepted.keys()];
  }
}
