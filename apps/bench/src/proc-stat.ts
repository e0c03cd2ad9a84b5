import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicksPerSecond: number | undefined;

/** The kernel's USER_HZ (`getconf CLK_TCK`); 100 when getconf is unavailable. */
function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      clockTicksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Parses /proc/<pid>/stat; null when the process is gone or the file is malformed. */
function readStat(pid: number): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses; fields after the last
  // ")" are space-separated, starting at field 3 (state): ppid is field 4, utime, stime,
  // cutime and cstime are 14–17 (cutime/cstime: children that exited and were waited for).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const at = (field: number): number => Number(fields[field - 3]);
  const ticks = at(14) + at(15) + at(16) + at(17);
  const ppid = at(4);
  if (!Number.isFinite(ticks) || !Number.isFinite(ppid)) return null;
  return { pid, ppid, ticks };
}

/**
 * CPU time (user + system, all threads) used by a live process and all its descendants,
 * including descendants that already exited and were waited for, in milliseconds, from
 * /proc. A server started through a wrapper (a shell, a Node shim) is thus counted whole.
 * Resolution is one clock tick (10 ms at USER_HZ 100), so sample over seconds. Returns
 * null when the process is gone or /proc is absent (not Linux).
 */
export function readProcessCpuMs(pid: number): number | null {
  return treeCpuMs(pid, processTable());
}

/** Every live process by parent pid; empty when /proc cannot be listed. */
function processTable(): Map<number, ProcStat[]> {
  const children = new Map<number, ProcStat[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return children;
  }
  for (const name of entries) {
    const stat = readStat(Number(name));
    if (!stat) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  return children;
}

function treeCpuMs(pid: number, children: Map<number, ProcStat[]>): number | null {
  const root = readStat(pid);
  if (!root) return null;
  let ticks = 0;
  const pending = [root];
  for (let next = pending.pop(); next; next = pending.pop()) {
    ticks += next.ticks;
    pending.push(...(children.get(next.pid) ?? []));
  }
  return (ticks * 1000) / ticksPerSecond();
}

/** A CPU sample of several processes, to subtract from a later one. */
export type CpuSample = Map<number, number | null>;

/** Samples the CPU time of every pid (with its descendants). */
export function sampleCpu(pids: readonly number[]): CpuSample {
  const table = pids.length > 0 ? processTable() : new Map<number, ProcStat[]>();
  return new Map(pids.map((pid) => [pid, treeCpuMs(pid, table)]));
}

/** CPU ms each pid used between two samples; null for a pid missing in either. */
export function cpuDelta(before: CpuSample, after: CpuSample): Map<number, number | null> {
  const delta = new Map<number, number | null>();
  for (const [pid, start] of before) {
    const end = after.get(pid);
    delta.set(pid, start === null || end === null || end === undefined ? null : end - start);
  }
  return delta;
}

/** Machine-wide CPU time since boot, summed over all cores, in milliseconds. */
export interface MachineCpu {
  /** user + nice + system + irq + softirq + steal. */
  busyMs: number;
  /** busy + idle + iowait. */
  totalMs: number;
}

/** Reads the machine-wide CPU counters from /proc/stat; null off Linux. */
export function readMachineCpu(): MachineCpu | null {
  let line: string | undefined;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  } catch {
    return null;
  }
  const fields = line?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return null;
  const ms = (ticks: number): number => (ticks * 1000) / ticksPerSecond();
  const busy =
    (user as number) +
    (nice as number) +
    (system as number) +
    (irq as number) +
    (softirq as number) +
    (steal as number);
  return { busyMs: ms(busy), totalMs: ms(busy + (idle as number) + (iowait as number)) };
}
