import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "./errors.js";
import { LatencyHistogram } from "./latency-histogram.js";
import { type LoadResult, mergeLoadResults, summarizeLatency } from "./load-result.js";
import { resolveWorkload } from "./workload.js";

function round(latenciesUs: number[], windowMs: number, cpu: number | null): LoadResult {
  const histogram = new LatencyHistogram();
  for (const v of latenciesUs) histogram.record(v);
  return {
    workload: resolveWorkload({ operation: "put" }),
    concurrency: 8,
    connections: 8,
    workers: 1,
    ok: latenciesUs.length + 2,
    failed: 1,
    errors: { CALL_TIMEOUT: 1 },
    firstError: "CALL_TIMEOUT: no response",
    measured: latenciesUs.length,
    windowMs,
    opsPerSecond: (latenciesUs.length * 1000) / windowMs,
    latencyMs: summarizeLatency(histogram),
    histogram,
    generatorCpuMs: 10,
    processCpuMs: new Map([[42, cpu]]),
    machineCpu: { busyMs: 100, totalMs: 200 },
    aborted: null,
  };
}

describe("mergeLoadResults", () => {
  it("treats rounds as one run whose window is the sum of theirs", () => {
    const a = round([1000, 2000, 3000], 1000, 50);
    const b = round([4000, 5000, 6000, 7000, 8000, 9000, 10_000], 2000, 70);
    const merged = mergeLoadResults([a, b]);
    expect(merged).toMatchObject({
      ok: 14,
      failed: 2,
      errors: { CALL_TIMEOUT: 2 },
      measured: 10,
      windowMs: 3000,
      generatorCpuMs: 20,
      machineCpu: { busyMs: 200, totalMs: 400 },
    });
    // 10 calls over 3 s, not the mean of 3/s and 3.5/s.
    expect(merged.opsPerSecond).toBeCloseTo(10 / 3, 9);
    expect(merged.processCpuMs.get(42)).toBe(120);
    // Percentiles over all ten calls: the 5th smallest is 5 ms (within one bucket).
    expect(merged.latencyMs.p50).toBeGreaterThanOrEqual(5);
    expect(merged.latencyMs.p50).toBeLessThanOrEqual(5 * (1 + 1 / 128));
    expect(merged.latencyMs.max).toBe(10);
  });

  it("keeps a vanished process's CPU unknown", () => {
    const merged = mergeLoadResults([round([1], 1000, 5), round([1], 1000, null)]);
    expect(merged.processCpuMs.get(42)).toBeNull();
  });

  it("rejects an empty list", () => {
    expect(() => mergeLoadResults([])).toThrow(InvalidOptionError);
  });
});
