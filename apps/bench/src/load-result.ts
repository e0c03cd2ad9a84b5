import { InvalidOptionError } from "./errors.js";
import { LatencyHistogram } from "./latency-histogram.js";
import type { MachineCpu } from "./proc-stat.js";
import type { ResolvedWorkload } from "./workload.js";

/** Latency percentiles of one run, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** What one load run measured. */
export interface LoadResult {
  workload: ResolvedWorkload;
  concurrency: number;
  connections: number;
  workers: number;
  /** Successful calls over the whole run (warm-up and drain included). */
  ok: number;
  /** Failed calls over the whole run; for puts each one's outcome is unknown. */
  failed: number;
  errors: Record<string, number>;
  firstError: string | null;
  /** Successful calls completed inside the measurement window. */
  measured: number;
  windowMs: number;
  /** measured / window. */
  opsPerSecond: number;
  latencyMs: LatencySummary;
  histogram: LatencyHistogram;
  /** CPU ms all workers used during the window. */
  generatorCpuMs: number;
  /** CPU ms each of `cpuPids` used during the window; null if a process vanished. */
  processCpuMs: Map<number, number | null>;
  /**
   * CPU ms the whole machine spent busy during the window, and its capacity (window ×
   * cores); busy minus servers minus generator is what other processes took. Null off
   * Linux.
   */
  machineCpu: MachineCpu | null;
  /** Why some worker stopped early, or null. */
  aborted: string | null;
}

/** p50/p90/p99/p99.9/max/mean of a histogram of µs, in ms. */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  const ms = (us: number): number => us / 1000;
  return {
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    p999: ms(histogram.percentile(99.9)),
    max: ms(histogram.maxUs),
    mean: ms(histogram.meanUs),
  };
}

/**
 * Combines runs of the same load (rounds of one scenario) as if they were one run whose
 * window is the sum of theirs: counts, windows and CPU times add up, histograms merge
 * exactly, so ops/s is total measured calls over total window time and percentiles are
 * over all calls. Throws InvalidOptionError for an empty list.
 */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const [first] = results;
  if (!first) throw new InvalidOptionError("mergeLoadResults needs at least one result");
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const processCpuMs = new Map<number, number | null>();
  let machineCpu: MachineCpu | null = { busyMs: 0, totalMs: 0 };
  let ok = 0;
  let failed = 0;
  let measured = 0;
  let windowMs = 0;
  let generatorCpuMs = 0;
  for (const r of results) {
    histogram.merge(r.histogram);
    ok += r.ok;
    failed += r.failed;
    measured += r.measured;
    windowMs += r.windowMs;
    generatorCpuMs += r.generatorCpuMs;
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    for (const [pid, cpu] of r.processCpuMs) {
      const sum = processCpuMs.has(pid) ? processCpuMs.get(pid) : 0;
      processCpuMs.set(pid, sum === null || sum === undefined || cpu === null ? null : sum + cpu);
    }
    machineCpu =
      machineCpu && r.machineCpu
        ? {
            busyMs: machineCpu.busyMs + r.machineCpu.busyMs,
            totalMs: machineCpu.totalMs + r.machineCpu.totalMs,
          }
        : null;
  }
  return {
    ...first,
    ok,
    failed,
    errors,
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    measured,
    windowMs,
    opsPerSecond: windowMs > 0 ? (measured * 1000) / windowMs : 0,
    latencyMs: summarizeLatency(histogram),
    histogram,
    generatorCpuMs,
    processCpuMs,
    machineCpu,
    aborted: results.find((r) => r.aborted)?.aborted ?? null,
  };
}
