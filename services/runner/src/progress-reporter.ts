/**
 * Turns a job's `ctx.progress()` calls into at most one JobProgress per `intervalMs`:
 * the first report goes out at once, later ones inside the interval are coalesced and
 * the latest is sent when the interval ends. Percent never goes down within an attempt
 * (a lower value keeps the previous percent but updates the message). One send at a
 * time: while NATS is slow, reports coalesce instead of queueing up.
 */
export type SendProgress = (percent: number, message: string | undefined, n: number) => Promise<unknown>;

export class ProgressReporter {
  /** The latest percent reported; -1 before the first report. */
  private percent = -1;
  private message: string | undefined;
  /** A report not sent yet. */
  private dirty = false;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private sequence = 0;
  private closed = false;

  private readonly send: SendProgress;
  private readonly intervalMs: number;

  constructor(
    send: SendProgress,
    intervalMs = 200,
  ) {
    this.send = send;
    this.intervalMs = intervalMs;
  }

  report(percent: number, message?: string): void {
    if (this.closed || !Number.isFinite(percent)) return;
    const next = Math.max(this.percent, Math.min(100, Math.max(0, percent)));
    if (next === this.percent && message === this.message) return;
    this.percent = next;
    this.message = message;
    this.dirty = true;
    this.schedule();
  }

  /** Stops taking reports, sends the one still pending and waits until it is stored (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.inFlight) await this.inFlight;
    if (this.dirty) await this.sendLatest();
  }

  private schedule(): void {
    if (this.timer || this.inFlight || !this.dirty || this.closed) return;
    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) void this.sendLatest();
    else this.timer = setTimeout(() => {
      this.timer = null;
      void this.sendLatest();
    }, wait);
  }

  private sendLatest(): Promise<void> {
    this.dirty = false;
    this.lastSentAt = Date.now();
    const n = ++this.sequence;
    const sent = this.send(this.percent, this.message, n).then(
      () => undefined,
      () => undefined, // progress is best effort; the sender logs
    );
    this.inFlight = sent.finally(() => {
      this.inFlight = null;
      this.schedule();
    });
    return this.inFlight;
  }
}
