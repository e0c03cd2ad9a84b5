import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { readU64 } from "./binary.js";
import { LOG_END, logKey, logKeyIndex, MetaKey, MVCC_END, MVCC_START, mvccKey } from "./keys.js";

describe("key layout", () => {
  it("orders log keys by byte comparison exactly as their indexes order numerically", () => {
    const indexes = [0, 1, 2, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1];
    const keys = [...indexes].reverse().map(logKey);
    keys.sort(Buffer.compare);
    expect(keys.map(logKeyIndex)).toEqual(indexes);
  });

  it("round-trips indexes up to 2^53 - 1 and rejects malformed log keys", () => {
    expect(logKeyIndex(logKey(2 ** 53 - 1))).toBe(2 ** 53 - 1);
    expect(logKeyIndex(Uint8Array.of(0x01, 0, 0))).toBe(-1);
    expect(logKeyIndex(mvccKey(new Uint8Array(8)))).toBe(-1);
    const tooBig = new DataView(new Uint8Array(8).fill(0xff).buffer);
    expect(readU64(tooBig, 0)).toBe(-1);
  });

  it("keeps the three keyspaces apart: meta < log < mvcc", () => {
    const meta = Object.values(MetaKey);
    for (const m of meta) expect(Buffer.compare(m, logKey(0))).toBe(-1);
    expect(Buffer.compare(logKey(2 ** 53 - 1), LOG_END)).toBe(-1);
    expect(Buffer.compare(LOG_END, MVCC_START)).toBeLessThanOrEqual(0);
    expect(Buffer.compare(mvccKey(Uint8Array.of(0xff, 0xff)), MVCC_END)).toBe(-1);
    expect(Buffer.compare(mvccKey(new Uint8Array()), MVCC_START)).toBe(0);
  });
});
