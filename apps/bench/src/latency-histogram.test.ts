import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "./errors.js";
import { LatencyHistogram, MAX_RECORDABLE_US } from "./latency-histogram.js";

/** The exact p-th percentile (nearest rank) of a sorted list. */
const exact = (sorted: number[], p: number): number =>
  sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] as number;

describe("LatencyHistogram", () => {
  it("is exact for values below 128 µs", () => {
    const h = new LatencyHistogram();
    for (let v = 0; v < 128; v++) h.record(v);
    expect(h.percentile(50)).toBe(63);
    expect(h.percentile(100)).toBe(127);
    expect(h.minUs).toBe(0);
  });

  it("reports percentiles at most 1/128 above the exact value, never below", () => {
    // A skewed spread from 1 µs to ~2 s, like real latencies.
    const values = Array.from({ length: 20_000 }, (_, i) => Math.floor(1.001 ** i));
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [1, 10, 50, 90, 99, 99.9, 100]) {
      const truth = exact(sorted, p);
      const reported = h.percentile(p);
      expect(reported).toBeGreaterThanOrEqual(truth);
      expect(reported).toBeLessThanOrEqual(truth * (1 + 1 / 128));
    }
    expect(h.count).toBe(values.length);
    expect(h.maxUs).toBe(sorted[sorted.length - 1]);
    expect(h.meanUs).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  });

  it("truncates fractional microseconds", () => {
    const h = new LatencyHistogram();
    h.record(1.9);
    expect(h.maxUs).toBe(1);
  });

  it("merging two histograms equals recording every value into one", () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const both = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 250_000;
      (i % 3 === 0 ? a : b).record(v);
      both.record(v);
    }
    a.merge(b);
    expect(a.toJSON()).toEqual(both.toJSON());
    for (const p of [50, 90, 99, 99.9]) expect(a.percentile(p)).toBe(both.percentile(p));
  });

  it("survives a JSON round trip, as between worker processes", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 37);
    const copy = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(copy.toJSON()).toEqual(h.toJSON());
    expect(copy.percentile(99)).toBe(h.percentile(99));
  });

  it("clamps values above the recordable range and counts them", () => {
    const h = new LatencyHistogram();
    h.record(MAX_RECORDABLE_US * 10);
    expect(h.clamped).toBe(1);
    expect(h.maxUs).toBe(MAX_RECORDABLE_US);
    expect(h.percentile(50)).toBe(MAX_RECORDABLE_US);
  });

  it("is all zeros when empty", () => {
    const h = new LatencyHistogram();
    expect([h.percentile(99), h.minUs, h.maxUs, h.meanUs, h.count]).toEqual([0, 0, 0, 0, 0]);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects the latency %s", (v) => {
    expect(() => new LatencyHistogram().record(v)).toThrow(InvalidOptionError);
  });

  it.each([0, -5, 101, Number.NaN])("rejects the percentile %s", (p) => {
    expect(() => new LatencyHistogram().percentile(p)).toThrow(InvalidOptionError);
  });

  it("rejects a snapshot whose buckets do not add up to its count", () => {
    const snapshot = { buckets: [5, 2], count: 3, sumUs: 10, minUs: 5, maxUs: 5, clamped: 0 };
    expect(() => LatencyHistogram.fromJSON(snapshot)).toThrow(InvalidOptionError);
    expect(() => LatencyHistogram.fromJSON({ ...snapshot, buckets: [99_999, 3] })).toThrow(
      InvalidOptionError,
    );
  });
});
