import { ingestRun } from "../scenarios/ingest.ts";
import type { SystemUnderTest } from "./system.ts";

/**
 * A short untimed burst of no-op jobs through a fresh deployment, then a wait until it
 * is idle: the first run of a scenario would otherwise also measure JIT compilation and
 * connection set-up (our services' first ingest run came out 20-30% below the next two,
 * BullMQ's too). Done for every system alike before anything is measured.
 */
export async function warmUp(sys: SystemUnderTest, seconds: number): Promise<void> {
  await ingestRun(sys, { connections: 16, durationS: seconds });
  await sys.waitIdle();
}
