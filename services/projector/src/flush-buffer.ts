export interface FlushBufferOptions {
  /** Longest an item waits in the buffer before a flush. */
  flushDelayMs: number;
  /** A buffer this full is flushed without waiting for the delay. */
  flushMaxMessages: number;
}

/**
 * Gathers items and hands them to `flush` one flush at a time: `flushDelayMs` after the
 * first of them arrived or as soon as `flushMaxMessages` are waiting, whichever comes
 * first. What arrives during a flush waits for it to end; items that waited through a
 * long flush are already due, so under load no delay is added. `flush` settles its
 * batch itself and never rejects.
 */
export class FlushBuffer<T> {
  private readonly items: T[] = [];
  /** When the oldest item in the buffer arrived. */
  private firstAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  private readonly options: FlushBufferOptions;
  private readonly flush: (batch: T[]) => Promise<void>;

  constructor(options: FlushBufferOptions, flush: (batch: T[]) => Promise<void>) {
    this.options = options;
    this.flush = flush;
  }

  push(item: T): void {
    if (this.items.push(item) === 1) this.firstAt = Date.now();
    this.schedule();
  }

  /** Flushes whatever waits, without its delay, until nothing is left or under way. */
  async drain(): Promise<void> {
    while (this.flushing !== null || this.items.length > 0) {
      if (this.flushing === null) this.start();
      await this.flushing;
    }
  }

  private schedule(): void {
    if (this.flushing !== null) return; // the flush under way schedules the next when it ends
    if (this.items.length >= this.options.flushMaxMessages) return this.start();
    if (this.timer === null) this.timer = setTimeout(() => this.start(), Math.max(0, this.firstAt + this.options.flushDelayMs - Date.now()));
  }

  private start(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.flushing = this.flush(this.items.splice(0, this.items.length)).finally(() => {
      this.flushing = null;
      if (this.items.length > 0) this.schedule();
    });
  }
}
