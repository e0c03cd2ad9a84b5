import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles the cap per failure up to the maximum, drawing from its upper half", () => {
    const low = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    const high = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0.999999);
    const lows = Array.from({ length: 6 }, () => low.next());
    const highs = Array.from({ length: 6 }, () => Math.round(high.next()));
    expect(lows).toEqual([50, 100, 200, 400, 500, 500]);
    expect(highs).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("starts over after reset", () => {
    const backoff = new Backoff({ initialDelayMs: 10 }, () => 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(5);
    expect(backoff.attempts).toBe(1);
  });
});
