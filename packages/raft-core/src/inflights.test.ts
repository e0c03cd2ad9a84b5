import { describe, expect, it } from "vitest";
import { Inflights } from "./inflights.js";

describe("Inflights", () => {
  it("is full at maxCount messages", () => {
    const w = new Inflights(3, 0);
    w.add(1, 10);
    w.add(2, 10);
    expect(w.full()).toBe(false);
    w.add(3, 10);
    expect(w.full()).toBe(true);
    expect(() => w.add(4, 10)).toThrow(RangeError);
  });

  it("is full once maxBytes are in flight", () => {
    const w = new Inflights(100, 25);
    w.add(1, 10);
    w.add(2, 10);
    expect(w.full()).toBe(false);
    w.add(3, 10);
    expect(w.full()).toBe(true);
    expect(w.bytes).toBe(30);
  });

  it("an acknowledgement frees every message up to its index", () => {
    const w = new Inflights(10, 0);
    for (let i = 1; i <= 5; i++) w.add(i * 10, 1);
    w.freeLE(25);
    expect(w.count).toBe(3);
    expect(w.firstIndex()).toBe(30);
    w.freeLE(5);
    expect(w.count).toBe(3);
    w.freeLE(100);
    expect(w.count).toBe(0);
    expect(w.bytes).toBe(0);
  });

  it("wraps around its ring buffer and grows up to maxCount", () => {
    const w = new Inflights(40, 0);
    let next = 1;
    for (let round = 0; round < 50; round++) {
      while (!w.full()) w.add(next++, 1);
      expect(w.count).toBe(40);
      w.freeLE(next - 30);
      expect(w.count).toBe(29);
      expect(w.firstIndex()).toBe(next - 29);
    }
  });
});
