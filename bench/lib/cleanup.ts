/**
 * Everything the bench started, stopped in reverse order at the end, on an error, and on
 * Ctrl-C (SIGINT) or SIGTERM, so no server or service outlives the bench.
 */
export class Cleanup {
  private readonly stops: Array<{ what: string; stop: () => Promise<void> }> = [];

  /** Registers a stop; returns the thing's own stop, which also unregisters it. */
  add(what: string, stop: () => Promise<void>): () => Promise<void> {
    const entry = { what, stop };
    this.stops.push(entry);
    return async () => {
      const i = this.stops.indexOf(entry);
      if (i >= 0) this.stops.splice(i, 1);
      await stop();
    };
  }

  async runAll(): Promise<void> {
    while (this.stops.length > 0) {
      const { what, stop } = this.stops.pop()!;
      await stop().catch((err: unknown) => process.stderr.write(`bench: stopping ${what} failed: ${String(err)}\n`));
    }
  }

  /** On SIGINT/SIGTERM: stop everything, then exit (a second signal exits at once). */
  installSignalHandlers(): void {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`\nbench: ${signal}: stopping every process it started...\n`);
      void this.runAll().finally(() => process.exit(130));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
}
