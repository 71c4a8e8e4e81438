import type { Readiness } from "../ports.ts";

export interface NatsReadinessOptions {
  /** Whether the NATS connection is up now. */
  connected: () => boolean;
  /**
   * Resolves when the stream answers (e.g. `jsm.streams.info(stream)`), rejects otherwise.
   * When it resolves with the stream's info, its `cluster` must show a leader that
   * reaches a majority of the stream's servers too (see quorumProblem).
   */
  probeStream: () => Promise<unknown>;
  /** How long one answer is reused: probes (load balancers, k8s) may poll hard. */
  cacheMs?: number;
  now?: () => number;
  onProbeError?: (err: unknown) => void;
}

type Result = { ready: boolean; reason?: string };

/** A replica not heard from for this long does not count towards a majority (JetStream's leader heartbeats every second). */
const REPLICA_SILENT_NS = 5_000 * 1_000_000;

interface StreamCluster {
  leader?: string;
  replicas?: { name: string; current?: boolean; offline?: boolean; active?: number }[];
}

/**
 * Why a replicated stream cannot store an event now, or null when it can (or is not
 * replicated). A stream's info answers even when it cannot take writes: a server whose
 * stream group has no leader answers with its own copy, and a leader that lost its
 * majority keeps calling itself leader until it notices (about 10 s). Either way a
 * publish gets no ack, so /readyz must say so: it wants a leader that has heard from a
 * majority of the stream's servers (itself included) within the last few seconds.
 */
export function quorumProblem(cluster: StreamCluster | undefined): string | null {
  if (cluster === undefined) return null;
  if (!cluster.leader) return "the event stream has no leader (fewer than a majority of its servers are up)";
  const replicas = cluster.replicas ?? [];
  const servers = replicas.length + 1;
  const reachable = 1 + replicas.filter((r) => !r.offline && (r.active ?? 0) < REPLICA_SILENT_NS).length;
  if (reachable * 2 <= servers) return `the event stream's leader reaches ${reachable} of its ${servers} servers (a write needs a majority)`;
  return null;
}

/**
 * Ready when the NATS connection is up and the event stream answers, with a leader and
 * a majority of its servers when it is replicated. One probe serves
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
      (info): Result => {
        const problem = quorumProblem((info as { cluster?: StreamCluster } | undefined)?.cluster);
        return problem === null ? { ready: true } : { ready: false, reason: problem };
      },
      (err: unknown): Result => {
        this.opts.onProbeError?.(err);
        return { ready: false, reason: "the event stream does not answer" };
      },
    );
    this.cached = { at: now, result };
    return result;
  }
}
