import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SortedMap } from "./sorted-map.js";

/** The reference: a plain Map whose keys are sorted on demand. */
function modelEntries(model: Map<string, number>, gte: string, lt: string | undefined) {
  return [...model.entries()]
    .filter(([k]) => k >= gte && (lt === undefined || k < lt))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function scanAll(map: SortedMap<number>, gte: string, lt: string | undefined, reverse = false) {
  const out: [string, number][] = [];
  const visit = (k: string, v: number) => {
    out.push([k, v]);
  };
  if (reverse) map.scanReverse(gte, lt, visit);
  else map.scan(gte, lt, visit);
  return out;
}

// Short keys over a small alphabet (including 0x00 and 0xff) collide often and
// exercise prefixes, which is where byte order is easy to get wrong.
const keyArb = fc
  .array(fc.constantFrom(0, 1, 0x61, 0x62, 0xff), { minLength: 0, maxLength: 4 })
  .map((codes) => String.fromCharCode(...codes));

const opArb = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key: keyArb, value: fc.integer() }),
  fc.record({ op: fc.constant("delete" as const), key: keyArb }),
  fc.record({ op: fc.constant("clone" as const) }),
);

describe("SortedMap", () => {
  it("orders binary-string keys in unsigned byte order, prefixes first", () => {
    const map = new SortedMap<number>();
    for (const [i, k] of ["b", "a\u00ff", "a", "", "a\u0000", "\u00ff"].entries()) map.set(k, i);
    expect(scanAll(map, "", undefined).map(([k]) => k)).toEqual([
      "",
      "a",
      "a\u0000",
      "a\u00ff",
      "b",
      "\u00ff",
    ]);
  });

  it("behaves like a sorted Map under random set/delete/clone sequences, and clones never change", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 600 }), keyArb, keyArb, (ops, a, b) => {
        const map = new SortedMap<number>();
        const model = new Map<string, number>();
        const clones: { map: SortedMap<number>; frozen: [string, number][] }[] = [];
        for (const step of ops) {
          if (step.op === "set") {
            map.set(step.key, step.value);
            model.set(step.key, step.value);
          } else if (step.op === "delete") {
            expect(map.delete(step.key)).toBe(model.delete(step.key));
          } else {
            clones.push({ map: map.clone(), frozen: modelEntries(model, "", undefined) });
          }
          expect(map.size).toBe(model.size);
        }
        const [gte, lt] = a <= b ? [a, b] : [b, a];
        expect(scanAll(map, "", undefined)).toEqual(modelEntries(model, "", undefined));
        expect(scanAll(map, gte, lt)).toEqual(modelEntries(model, gte, lt));
        expect(scanAll(map, gte, lt, true)).toEqual(modelEntries(model, gte, lt).reverse());
        for (const [k, v] of model) expect(map.get(k)).toBe(v);
        for (const clone of clones) expect(scanAll(clone.map, "", undefined)).toEqual(clone.frozen);
      }),
      { numRuns: 300 },
    );
  });

  it("stays correct through splits and merges of many levels", () => {
    const map = new SortedMap<number>();
    const n = 50_000;
    const key = (i: number) => i.toString(16).padStart(6, "0");
    for (let i = 0; i < n; i++) map.set(key((i * 7919) % n), i);
    const snapshot = map.clone();
    for (let i = 0; i < n; i += 2) expect(map.delete(key(i))).toBe(true);
    expect(map.size).toBe(n / 2);
    const keys = scanAll(map, "", undefined).map(([k]) => k);
    expect(keys).toEqual(Array.from({ length: n / 2 }, (_, j) => key(2 * j + 1)));
    expect(map.firstKey()).toBe(key(1));
    expect(map.lastKey()).toBe(key(n - 1));
    expect(snapshot.size).toBe(n);
    expect(scanAll(snapshot, key(10), key(14)).map(([k]) => k)).toEqual([
      key(10),
      key(11),
      key(12),
      key(13),
    ]);
    for (let i = 1; i < n; i += 2) map.delete(key(i));
    expect(map.size).toBe(0);
    expect(scanAll(map, "", undefined)).toEqual([]);
    expect(snapshot.get(key(4242))).toBeTypeOf("number");
  });

  it("stops a scan when the visitor returns false", () => {
    const map = new SortedMap<number>();
    for (let i = 0; i < 1000; i++) map.set(String(i).padStart(4, "0"), i);
    const seen: string[] = [];
    map.scan("0100", undefined, (k) => {
      seen.push(k);
      return seen.length < 3;
    });
    expect(seen).toEqual(["0100", "0101", "0102"]);
    seen.length = 0;
    map.scanReverse("", "0100", (k) => {
      seen.push(k);
      return seen.length < 2;
    });
    expect(seen).toEqual(["0099", "0098"]);
  });
});
