/**
 * The durability pairs the bench compares at: each pair sets both stores to the same
 * promise about power loss, so neither side wins a figure by fsyncing less.
 *
 * - `always`: nats-server `sync_interval: always` (fsync before every publish ack) against
 *   Redis `appendfsync always` (fsync of the AOF before the replies of each event-loop turn).
 *   Nothing acknowledged is lost on power failure.
 * - `1s`: nats-server `sync_interval: 1s` against Redis `appendfsync everysec`. A power
 *   failure loses up to about a second of acknowledged writes; a crash of the server
 *   process alone loses nothing (both have written to the OS before they answer).
 */
export const DURABILITIES = ["always", "1s"] as const;
export type Durability = (typeof DURABILITIES)[number];

export interface DurabilitySetting {
  /** nats-server's `jetstream { sync_interval }`. */
  natsSyncInterval: string;
  /** redis-server's `--appendfsync`. */
  redisAppendfsync: "always" | "everysec";
  /** Label of BullMQ's column. */
  redisLabel: string;
}

export const DURABILITY: Record<Durability, DurabilitySetting> = {
  always: { natsSyncInterval: "always", redisAppendfsync: "always", redisLabel: "always" },
  "1s": { natsSyncInterval: "1s", redisAppendfsync: "everysec", redisLabel: "everysec" },
};

/** One line per pair, printed above the table. */
export function describeDurability(d: Durability): string {
  const s = DURABILITY[d];
  const promise = d === "always" ? "fsync before every acknowledgement: no acknowledged job lost on power failure" : "fsync about every second: a power failure may lose the last second of acknowledged jobs";
  return `durability "${d}": nats-server sync_interval: ${s.natsSyncInterval}, redis-server appendfsync ${s.redisAppendfsync} (${promise})`;
}
