import { cpuSeconds } from "./proc-stats.ts";
import type { Role, SystemProcess } from "./system.ts";

export type CpuSnapshot = Map<number, number>;

/** CPU seconds of each process of a system now (pid -> seconds). */
export function cpuSnapshot(processes: readonly SystemProcess[]): CpuSnapshot {
  return new Map(processes.map((p) => [p.pid, cpuSeconds(p.pid)]));
}

/** CPU seconds spent between two snapshots, summed per role. */
export function cpuByRole(processes: readonly SystemProcess[], before: CpuSnapshot, after: CpuSnapshot): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {};
  for (const p of processes) {
    const spent = (after.get(p.pid) ?? 0) - (before.get(p.pid) ?? 0);
    out[p.role] = (out[p.role] ?? 0) + spent;
  }
  return out;
}
