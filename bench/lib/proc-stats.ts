import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time and resident memory of processes, read from /proc (Linux only). CPU is
 * utime + stime of the process, of its live descendants (a worker process, say),
 * and of the children it already reaped (cutime + cstime), so nothing a service
 * spends is missed.
 */
const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(out.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

interface StatFields {
  ppid: number;
  /** Own user + system time, in clock ticks. */
  ownTicks: number;
  /** Reaped children's user + system time, in clock ticks. */
  reapedTicks: number;
}

/** Parses /proc/<pid>/stat; null when the process is gone. */
function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // f[0] is field 3 (state): field n is f[n - 3].
  return { ppid: Number(f[1]), ownTicks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The pid and every live descendant of it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const s = readStat(p);
    if (s === null) continue;
    const list = children.get(s.ppid);
    if (list) list.push(p);
    else children.set(s.ppid, [p]);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** CPU seconds used so far by the process, its descendants and its reaped children. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const s = readStat(p);
    if (s === null) continue;
    ticks += s.ownTicks + (p === pid ? s.reapedTicks : 0);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of the process itself, in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pid of the one process whose command line contains `needle` (a unique temp path, say). */
export function findPidByCommandLine(needle: string): number {
  for (const p of allPids()) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ").includes(needle)) return p;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no process with "${needle}" in its command line`);
}
