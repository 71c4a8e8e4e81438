import type { Readiness } from "./ports.ts";

export interface NatsReadinessOptions {
  /** Whether the NATS connection is up now. */
  connected: () => boolean;
  /** Resolves when the stream answers (e.g. `jsm.streams.info(stream)`), rejects otherwise. */
  probeStream: () => Promise<unknown>;
  /** How long one answer is reused: probes (load balancers, k8s) may poll hard. */
  cacheMs?: number;
  now?: () => number;
  onProbeError?: (err: unknown) => void;
}

type Result = { ready: boolean; reason?: string };

/**
 * Ready when the NATS connection is up and the event stream answers. One probe serves
 * every /readyz call for `cacheMs` (concurrent calls share the one in flight), so the
 * endpoint stays cheap.
 */
export class NatsReadiness implements Readiness {
  private cached: { at: number; result: Promise<Result> } | null = null;

  private readonly opts: NatsReadinessOptions;

  constructor(opts: NatsReadinessOptions) {
    this.opts = opts;
  }

  check(): Promise<Result> {
    const now = (this.opts.now ?? Date.now)();
    if (!this.opts.connected()) return Promise.resolve({ ready: false, reason: "not connected to NATS" });
    if (this.cached !== null && now - this.cached.at < (this.opts.cacheMs ?? 1_000)) return this.cached.result;
    const result = this.opts.probeStream().then(
      (): Result => ({ ready: true }),
      (err: unknown): Result => {
        this.opts.onProbeError?.(err);
        return { ready: false, reason: "the event stream does not answer" };
      },
    );
    this.cached = { at: now, result };
    return result;
  }
}
