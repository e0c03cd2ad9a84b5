import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BackendEntry } from "./backend.js";
import { decodeSnapshot, encodeSnapshot, type SnapshotItem } from "./snapshot-stream.js";

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Re-splits a byte stream at the given cut points. */
function resplit(chunks: Uint8Array[], cuts: number[]): Uint8Array[] {
  const whole = Buffer.concat(chunks);
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, whole.length]) {
    out.push(Uint8Array.from(whole.subarray(start, p)));
    start = p;
  }
  return out;
}

const entriesArb = fc
  .uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 20 }), {
    selector: (k) => Buffer.from(k).toString("hex"),
    maxLength: 60,
  })
  .chain((keys) =>
    fc.tuple(
      fc.constant(keys.sort((a, b) => Buffer.compare(a, b))),
      fc.array(fc.uint8Array({ maxLength: 200 }), {
        minLength: keys.length,
        maxLength: keys.length,
      }),
    ),
  )
  .map(([keys, values]) => keys.map((key, i) => ({ key, value: values[i]! })));

describe("snapshot stream", () => {
  it("decodes what it encodes under any chunk size and any re-split", async () => {
    await fc.assert(
      fc.asyncProperty(
        entriesArb,
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.nat(1_000_000),
        async (entries: BackendEntry[], chunkBytes, cuts, appliedIndex) => {
          const chunks = await collect(encodeSnapshot(appliedIndex, from(entries), chunkBytes));
          for (const chunk of chunks)
            expect(chunk.length).toBeLessThanOrEqual(Math.max(64, chunkBytes));
          const items = await collect(decodeSnapshot(from(resplit(chunks, cuts))));
          expect(items[0]).toEqual({ kind: "header", appliedIndex });
          expect(
            items.slice(1).map((i) => (i as Extract<SnapshotItem, { kind: "entry" }>).entry),
          ).toEqual(entries);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("detects any flipped byte, truncation or trailing garbage", async () => {
    const entries = [
      { key: Uint8Array.of(1), value: Uint8Array.of(1, 2, 3) },
      { key: Uint8Array.of(2), value: Uint8Array.of(4) },
    ];
    const whole = Buffer.concat(await collect(encodeSnapshot(5, from(entries))));
    for (let i = 0; i < whole.length; i++) {
      const damaged = Uint8Array.from(whole);
      damaged[i]! ^= 0x40;
      await expect(collect(decodeSnapshot(from([damaged]))), `byte ${i}`).rejects.toMatchObject({
        code: "CORRUPT_STATE",
      });
    }
    for (let n = 0; n < whole.length; n++) {
      await expect(collect(decodeSnapshot(from([whole.subarray(0, n)])))).rejects.toMatchObject({
        code: "CORRUPT_STATE",
      });
    }
    const longer = Buffer.concat([whole, Uint8Array.of(0)]);
    await expect(collect(decodeSnapshot(from([longer])))).rejects.toMatchObject({
      code: "CORRUPT_STATE",
    });
  });

  it("refuses entries out of key order", async () => {
    const entries = [
      { key: Uint8Array.of(2), value: Uint8Array.of() },
      { key: Uint8Array.of(1), value: Uint8Array.of() },
    ];
    const chunks = await collect(encodeSnapshot(1, from(entries)));
    await expect(collect(decodeSnapshot(from(chunks)))).rejects.toThrow(/ascending key order/);
  });
});
