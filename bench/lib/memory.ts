import type { HeapProbe } from "./heap.ts";
import type { OurSystem } from "./our-system.ts";
import { rssBytes } from "./proc-stats.ts";

export const MB = 2 ** 20;

/** What is read of each process at a checkpoint, in MB. */
export interface MemoryReading {
  rss: number;
  /** V8 heap in use right after a full collection (our services only). */
  liveHeap?: number;
}

/**
 * Every process of the deployment: each service first collects its garbage (a
 * HeapProbe), then its resident size and live heap are read; nats-server, no Node
 * process, has only its resident size.
 */
export async function readMemory(sys: OurSystem, heap: HeapProbe): Promise<Map<string, MemoryReading>> {
  const out = new Map<string, MemoryReading>();
  for (const p of sys.processes()) {
    const liveHeap = p.role === "store" ? undefined : (await heap.afterFullGc(p.pid)).heapUsed / MB;
    out.set(p.name, { rss: rssBytes(p.pid) / MB, ...(liveHeap === undefined ? {} : { liveHeap }) });
  }
  return out;
}
