/**
 * Counts the jobs a runner runs at once, so it never pulls more messages than it can
 * start now (a message waiting in a local buffer would burn its ack_wait unseen).
 */
export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];
  private drained: Array<() => void> = [];

  constructor(readonly size: number) {}

  get free(): number {
    return this.size - this.used;
  }

  get busy(): number {
    return this.used;
  }

  /** Runs `work` in a slot; the slot frees when it settles. */
  run(work: () => Promise<void>): void {
    this.used++;
    void work()
      .catch(() => undefined) // handlers log their own errors; a slot must free regardless
      .finally(() => {
        this.used--;
        this.waiters.splice(0).forEach((wake) => wake());
        if (this.used === 0) this.drained.splice(0).forEach((wake) => wake());
      });
  }

  /** Resolves when at least one slot is free, or when `signal` aborts. */
  async waitFree(signal: AbortSignal): Promise<void> {
    while (this.free <= 0 && !signal.aborted) {
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
}
