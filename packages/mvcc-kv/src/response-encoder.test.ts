import { create, toBinary } from "@bufbuild/protobuf";
import {
  CompactionResponseSchema,
  DeleteRangeResponseSchema,
  type KeyValue,
  KeyValueSchema,
  PutResponseSchema,
  RangeResponseSchema,
  type ResponseHeader,
  ResponseHeaderSchema,
  type ResponseOp,
  ResponseOpSchema,
  type TxnResponse,
  TxnResponseSchema,
} from "@raftkv/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeResponse } from "./response-encoder.js";

const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 300n }),
);
const uint64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const bytes = fc.uint8Array({ maxLength: 300 });

const headerArb: fc.Arbitrary<ResponseHeader | undefined> = fc.option(
  fc
    .record({ clusterId: uint64, memberId: uint64, revision: int64, raftTerm: uint64 })
    .map((h) => create(ResponseHeaderSchema, h)),
  { nil: undefined },
);
const kvArb: fc.Arbitrary<KeyValue> = fc
  .record({
    key: bytes,
    createRevision: int64,
    modRevision: int64,
    version: int64,
    value: bytes,
    lease: int64,
  })
  .map((kv) => create(KeyValueSchema, kv));

const { txn } = fc.letrec<{ txn: TxnResponse; op: ResponseOp }>((tie) => ({
  txn: fc
    .record({
      header: headerArb,
      succeeded: fc.boolean(),
      responses: fc.array(tie("op"), { maxLength: 3 }),
    })
    .map((t) => create(TxnResponseSchema, t)),
  op: fc.oneof(
    { depthSize: "small" },
    fc.constant(create(ResponseOpSchema, {})),
    fc
      .record({
        header: headerArb,
        kvs: fc.array(kvArb, { maxLength: 3 }),
        more: fc.boolean(),
        count: int64,
      })
      .map((r) =>
        create(ResponseOpSchema, {
          response: { case: "responseRange", value: create(RangeResponseSchema, r) },
        }),
      ),
    fc.record({ header: headerArb, prevKv: fc.option(kvArb, { nil: undefined }) }).map((r) =>
      create(ResponseOpSchema, {
        response: { case: "responsePut", value: create(PutResponseSchema, r) },
      }),
    ),
    fc
      .record({ header: headerArb, deleted: int64, prevKvs: fc.array(kvArb, { maxLength: 3 }) })
      .map((r) =>
        create(ResponseOpSchema, {
          response: { case: "responseDeleteRange", value: create(DeleteRangeResponseSchema, r) },
        }),
      ),
    tie("txn").map((t) =>
      create(ResponseOpSchema, { response: { case: "responseTxn", value: t as TxnResponse } }),
    ),
  ),
}));

describe("encodeResponse", () => {
  it("writes exactly what protobuf-es writes, for any txn response tree", () => {
    fc.assert(
      fc.property(txn, (response) => {
        expect(encodeResponse(response)).toEqual(toBinary(TxnResponseSchema, response));
      }),
      { numRuns: 500 },
    );
  });

  it("writes put, delete and compaction responses as protobuf-es does", () => {
    fc.assert(
      fc.property(
        headerArb,
        fc.option(kvArb, { nil: undefined }),
        int64,
        fc.array(kvArb, { maxLength: 4 }),
        (header, prevKv, deleted, prevKvs) => {
          const put = create(PutResponseSchema, { header, prevKv });
          expect(encodeResponse(put)).toEqual(toBinary(PutResponseSchema, put));
          const del = create(DeleteRangeResponseSchema, { header, deleted, prevKvs });
          expect(encodeResponse(del)).toEqual(toBinary(DeleteRangeResponseSchema, del));
          const compaction = create(CompactionResponseSchema, { header });
          expect(encodeResponse(compaction)).toEqual(
            toBinary(CompactionResponseSchema, compaction),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
