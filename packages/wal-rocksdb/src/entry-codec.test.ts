import { describe, expect, it } from "vitest";
import { decodeEntry, ENTRY_HEADER_BYTES, encodeEntry } from "./entry-codec.js";

const entry = { index: 42, term: 7, type: 1 as const, data: Uint8Array.of(1, 2, 3) };

describe("entry encoding", () => {
  it("round-trips an entry, with its data as a plain Uint8Array", () => {
    const decoded = decodeEntry(encodeEntry(entry), 42);
    expect(decoded).toEqual(entry);
    expect(Object.getPrototypeOf((decoded as typeof entry).data)).toBe(Uint8Array.prototype);
  });

  it("reports every kind of damage instead of returning a wrong entry", () => {
    const good = encodeEntry(entry);
    expect(decodeEntry(good.subarray(0, ENTRY_HEADER_BYTES - 1), 42)).toBe("too-short");
    for (let byte = 0; byte < good.length; byte++) {
      const bad = good.slice();
      bad[byte] = (bad[byte] ?? 0) ^ 0x10;
      expect(decodeEntry(bad, 42), `flipped byte ${byte}`).toBeTypeOf("string");
    }
    expect(decodeEntry(good, 43)).toBe("index");
  });

  it("stores terms and indexes beyond 32 bits exactly", () => {
    const big = { index: 2 ** 53 - 1, term: 2 ** 40 + 3, type: 0 as const, data: new Uint8Array() };
    expect(decodeEntry(encodeEntry(big), 2 ** 53 - 1)).toEqual(big);
  });
});
