import { fromBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@raftkv/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Keyspace, readUint64BE, uint64BE } from "./keyspace.js";
import { decodeRecord, encodeRecord, encodeTombstone, type KvRecord } from "./kv-record.js";

const recordArb: fc.Arbitrary<KvRecord> = fc.record({
  key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  value: fc.uint8Array({ maxLength: 300 }),
  createRevision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  modRevision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  version: fc.integer({ min: 1, max: 2 ** 40 }),
  lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
});

describe("stored revision records", () => {
  it("round-trip every field, and are mvccpb.KeyValue after the kind byte", () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const bytes = encodeRecord(record);
        expect(decodeRecord(bytes)).toEqual({ tombstone: false, record });
        const kv = fromBinary(KeyValueSchema, bytes.subarray(1));
        expect(kv.createRevision).toBe(BigInt(record.createRevision));
        expect(kv.modRevision).toBe(BigInt(record.modRevision));
        expect(kv.version).toBe(BigInt(record.version));
        expect(kv.lease).toBe(record.lease);
        expect(kv.key).toEqual(record.key);
        expect(kv.value).toEqual(record.value);
      }),
    );
  });

  it("mark tombstones and keep their key", () => {
    expect(decodeRecord(encodeTombstone(Uint8Array.of(1, 2)))).toEqual({
      tombstone: true,
      key: Uint8Array.of(1, 2),
    });
  });

  it("refuse unknown kinds, unknown fields and truncation with CorruptState", () => {
    expect(() => decodeRecord(Uint8Array.of(9))).toThrow(/unknown kind/);
    expect(() => decodeRecord(Uint8Array.of(0, 0x7a, 1))).toThrow(/unexpected protobuf tag/);
    const bytes = encodeRecord({
      key: Uint8Array.of(1),
      value: new Uint8Array(10),
      createRevision: 1,
      modRevision: 1,
      version: 1,
      lease: 0n,
    });
    expect(() => decodeRecord(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});

describe("revision keys", () => {
  it("order by (main, sub) under byte order and parse back", () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 2 ** 40 }),
        ),
        fc.tuple(
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 2 ** 40 }),
        ),
        ([m1, s1], [m2, s2]) => {
          const keys = new Keyspace(1);
          const a = Buffer.from(keys.revisionKey(m1, s1));
          const b = Buffer.from(keys.revisionKey(m2, s2));
          const expected = m1 !== m2 ? Math.sign(m1 - m2) : Math.sign(s1 - s2);
          expect(Math.sign(Buffer.compare(a, b))).toBe(expected);
          expect(keys.parseRevisionKey(a)).toEqual({ main: m1, sub: s1 });
          expect(keys.toPortable(a)[0]).toBe(0x01);
        },
      ),
    );
    expect(readUint64BE(uint64BE(2 ** 53 - 1), 0)).toBe(2 ** 53 - 1);
  });
});
