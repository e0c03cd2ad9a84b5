import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KvRequestSchema } from "@raftkv/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeKvRequest } from "./kv-request-decoder.js";

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.uint8Array({ maxLength: 40 });

const requestArb = fc.oneof(
  fc.record({
    id: uint64,
    request: fc.record({
      case: fc.constant("put" as const),
      value: fc.record({
        key: bytes,
        value: bytes,
        lease: int64,
        prevKv: fc.boolean(),
        ignoreValue: fc.boolean(),
        ignoreLease: fc.boolean(),
      }),
    }),
  }),
  fc.record({
    id: uint64,
    request: fc.record({
      case: fc.constant("deleteRange" as const),
      value: fc.record({ key: bytes, rangeEnd: bytes, prevKv: fc.boolean() }),
    }),
  }),
  fc.record({
    id: uint64,
    request: fc.record({
      case: fc.constant("compaction" as const),
      value: fc.record({ revision: int64, physical: fc.boolean() }),
    }),
  }),
);

/** What the generic decoder says: the message, or that it throws. */
function reference(data: Uint8Array): unknown {
  try {
    return fromBinary(KvRequestSchema, data);
  } catch {
    return "throws";
  }
}

function ours(data: Uint8Array): unknown {
  try {
    return decodeKvRequest(data);
  } catch {
    return "throws";
  }
}

describe("decodeKvRequest", () => {
  it("decodes every request exactly as protobuf-es does", () => {
    fc.assert(
      fc.property(requestArb, (init) => {
        const data = toBinary(KvRequestSchema, create(KvRequestSchema, init));
        expect(decodeKvRequest(data)).toEqual(fromBinary(KvRequestSchema, data));
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with protobuf-es on damaged input: flipped, cut or extended bytes", () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 6 }),
        (init, at, byte, tail) => {
          const data = toBinary(KvRequestSchema, create(KvRequestSchema, init));
          const flipped = data.slice();
          if (flipped.length > 0) flipped[at % flipped.length] = byte;
          for (const damaged of [
            flipped,
            data.subarray(0, at % (data.length + 1)),
            Uint8Array.from([...data, ...tail]),
          ]) {
            expect(ours(damaged)).toEqual(reference(damaged));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
