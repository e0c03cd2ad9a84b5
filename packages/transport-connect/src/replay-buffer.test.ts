import { describe, expect, it } from "vitest";
import { ReplayBuffer } from "./replay-buffer.js";

const bytes = (...values: number[]) => Uint8Array.from(values);
const flat = (chunks: Uint8Array[]) => [...chunks.flatMap((c) => [...c])];

describe("ReplayBuffer", () => {
  it("returns the bytes from any held offset, cutting into a chunk where needed", () => {
    const buffer = new ReplayBuffer(100);
    buffer.append(bytes(0, 1, 2));
    buffer.append(bytes(3, 4));
    expect(flat(buffer.from(0))).toEqual([0, 1, 2, 3, 4]);
    expect(flat(buffer.from(2))).toEqual([2, 3, 4]);
    expect(flat(buffer.from(5))).toEqual([]);
  });

  it("forgets written bytes beyond its limit, oldest first, and never unwritten ones", () => {
    const buffer = new ReplayBuffer(4);
    for (let i = 0; i < 5; i++) buffer.append(bytes(i * 2, i * 2 + 1));
    buffer.release(4); // only the first two chunks were written
    expect(buffer.start).toBe(4);
    expect(buffer.end).toBe(10);
    buffer.release(10);
    expect(buffer.start).toBe(6);
    expect(flat(buffer.from(6))).toEqual([6, 7, 8, 9]);
  });

  it("refuses an offset it no longer holds", () => {
    const buffer = new ReplayBuffer(2);
    buffer.append(bytes(0, 1));
    buffer.append(bytes(2, 3));
    buffer.release(4);
    expect(() => buffer.from(1)).toThrow(RangeError);
    expect(() => buffer.from(5)).toThrow(RangeError);
  });
});
