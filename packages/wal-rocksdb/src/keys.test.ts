import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { readU64 } from "./binary.js";
import { MetaKey, MVCC_END, MVCC_START, mvccKey } from "./keys.js";

describe("key layout", () => {
  it("rejects 64-bit values beyond 2^53 - 1", () => {
    const tooBig = new DataView(new Uint8Array(8).fill(0xff).buffer);
    expect(readU64(tooBig, 0)).toBe(-1);
  });

  it("keeps the keyspaces apart: meta < mvcc", () => {
    const meta = Object.values(MetaKey);
    for (const m of meta) expect(Buffer.compare(m, MVCC_START)).toBe(-1);
    expect(Buffer.compare(mvccKey(Uint8Array.of(0xff, 0xff)), MVCC_END)).toBe(-1);
    expect(Buffer.compare(mvccKey(new Uint8Array()), MVCC_START)).toBe(0);
  });
});
