import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

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

/**
 * CPU time (user + system, all threads) a live process has used, in milliseconds, from
 * /proc/<pid>/stat. Resolution is one clock tick (10 ms at USER_HZ 100), so callers
 * should sample over seconds. Returns null when the process is gone or /proc is absent
 * (not Linux).
 */
export function readProcessCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses; fields after the last
  // ")" are space-separated, starting at field 3 (state). utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** A CPU sample of several processes, to subtract from a later one. */
export type CpuSample = Map<number, number | null>;

/** Samples the CPU time of every pid. */
export function sampleCpu(pids: readonly number[]): CpuSample {
  return new Map(pids.map((pid) => [pid, readProcessCpuMs(pid)]));
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
