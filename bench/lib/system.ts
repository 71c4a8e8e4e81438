import type { Durability } from "./durability.ts";

/**
 * What a scenario needs from a system under test, whichever it is: our services on NATS
 * JetStream, or the BullMQ baseline on Redis. Both take the same `POST /job` body and
 * answer 202 with the job's id.
 */
export type SystemName = "ours" | "bullmq";

/** What a process does, so CPU and memory can be split the same way for both systems. */
export type Role = "store" | "gateway" | "runner" | "projector";

export interface SystemProcess {
  role: Role;
  /** nats-server, redis-server, gateway, runner 1, worker 1, ... */
  name: string;
  pid: number;
}

export interface CompletionWatch {
  stop(): Promise<void>;
}

export interface SystemUnderTest {
  readonly name: SystemName;
  /** How its store fsyncs (durability.ts): the comparisons pair systems of the same one. */
  readonly durability: Durability;
  readonly baseUrl: string;
  readonly token: string;
  /** Whether `POST /job/batch` exists (`{jobs: [...]}` -> 207 `{items: [{index, status, job?}]}`). */
  readonly batch: boolean;
  processes(): SystemProcess[];
  /**
   * Starts following completions and resolves once it is listening: `onSucceeded` gets
   * each job id the first time it is seen succeeded, with the time (clock.now()).
   */
  watchSucceeded(onSucceeded: (id: string, at: number) => void): Promise<CompletionWatch>;
  /** Messages written so far to each JetStream stream (ours only): what one job costs the store. */
  storeWrites?(): Promise<Record<string, number>>;
  /** Resolves when nothing is queued or running (the backlog of a previous run is gone). */
  waitIdle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The no-op job of every throughput scenario. */
export const NOOP_JOB = { type: "sleep", params: { ms: 0 } } as const;

export const SYSTEM_LABEL: Record<SystemName, string> = { ours: "jetstream-jobs", bullmq: "BullMQ" };
