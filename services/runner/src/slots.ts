/**
 * Counts the jobs a runner runs at once, so it never pulls more messages than it can
 * start (a message waiting in a local buffer would burn its ack_wait unseen), and keeps
 * a running average of how long a job holds its slot (it decides whether fetching
 * ahead pays: see fetched-ahead.ts).
 */
export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];
  private drained: Array<() => void> = [];
  private readonly freed: Array<() => void> = [];
  private settled = 0;
  private averageMs = 0;

  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  get free(): number {
    return this.size - this.used;
  }

  get busy(): number {
    return this.used;
  }

  /**
   * How long the recent jobs held their slot, in ms (an exponential average over about
   * the last `size` jobs); null until `size` jobs have ended.
   */
  get recentJobMs(): number | null {
    return this.settled >= this.size ? this.averageMs : null;
  }

  /** Runs `work` in a slot; the slot frees when it settles. */
  run(work: () => Promise<void>): void {
    this.used++;
    const started = performance.now();
    void work()
      .catch(() => undefined) // handlers log their own errors; a slot must free regardless
      .finally(() => {
        this.used--;
        this.record(performance.now() - started);
        for (const listener of this.freed) listener();
        this.notify();
        if (this.used === 0) this.drained.splice(0).forEach((wake) => wake());
      });
  }

  /** Calls `listener` each time a slot frees (after the job's own settling). */
  onFree(listener: () => void): void {
    this.freed.push(listener);
  }

  /** Wakes whoever waits in `waitFor` to check its condition again. */
  notify(): void {
    this.waiters.splice(0).forEach((wake) => wake());
  }

  /** Resolves once `ready()` holds (checked again whenever a slot frees or `notify` is called), or when `signal` aborts. */
  async waitFor(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready() && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** Resolves when no job runs. */
  idle(): Promise<void> {
    return this.used === 0 ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }

  private record(ms: number): void {
    this.settled++;
    // The first job seeds the average; afterwards each job weighs 1/size.
    this.averageMs = this.settled === 1 ? ms : this.averageMs + (ms - this.averageMs) / this.size;
  }
}
