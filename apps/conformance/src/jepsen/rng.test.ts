import { describe, expect, it } from "vitest";
import { createRng } from "./rng.js";

describe("seeded rng", () => {
  it("gives the same sequence for the same seed and another for another seed", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA);
  });

  it("stays in range and reaches both ends of between()", () => {
    const rng = createRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = rng.between(1, 4);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(4);
      seen.add(n);
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
  });

  it("refuses to pick from an empty list", () => {
    expect(() => createRng(1).pick([])).toThrow(RangeError);
  });
});
