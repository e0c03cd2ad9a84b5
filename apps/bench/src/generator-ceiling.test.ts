import { describe, expect, it } from "vitest";
import { measureGeneratorCeiling } from "./generator-ceiling.js";

describe("measureGeneratorCeiling", () => {
  it("drives the canned server without errors and reports CPU per call", {
    timeout: 120_000,
  }, async () => {
    const result = await measureGeneratorCeiling({
      concurrency: 16,
      workers: 1,
      warmupMs: 100,
      durationMs: 500,
      h2load: false,
    });
    expect(result.load.failed).toBe(0);
    expect(result.load.measured).toBeGreaterThan(0);
    expect(result.generatorCpuUsPerCall).toBeGreaterThan(0);
    expect(result.callsPerCoreSecond).toBeCloseTo(1e6 / result.generatorCpuUsPerCall, 6);
    expect(result.h2load).toBeNull();
  });
});
