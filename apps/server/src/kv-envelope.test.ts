import { create, toBinary } from "@bufbuild/protobuf";
import { RequestTooLargeError } from "@raftkv/mvcc-kv";
import {
  CompactionRequestSchema,
  DeleteRangeRequestSchema,
  KvRequestSchema,
  PutRequestSchema,
  TxnRequestSchema,
} from "@raftkv/proto";
import { describe, expect, it } from "vitest";
import { encodeKvEnvelope } from "./kv-envelope.js";

const enc = new TextEncoder();

describe("encodeKvEnvelope", () => {
  const put = create(PutRequestSchema, {
    key: enc.encode("k"),
    value: new Uint8Array(300),
    prevKv: true,
  });
  const del = create(DeleteRangeRequestSchema, { key: enc.encode("a"), rangeEnd: enc.encode("z") });
  const txn = create(TxnRequestSchema, {
    compare: [
      { key: enc.encode("k"), target: 1, result: 0, targetUnion: { case: "version", value: 3n } },
    ],
    success: [{ request: { case: "requestPut", value: put } }],
  });
  const compaction = create(CompactionRequestSchema, { revision: 42n, physical: true });
  const cases = [
    ["put", PutRequestSchema, put],
    ["deleteRange", DeleteRangeRequestSchema, del],
    ["txn", TxnRequestSchema, txn],
    ["compaction", CompactionRequestSchema, compaction],
  ] as const;

  for (const id of [0n, 1n, 127n, 128n, 0xffff_ffff_ffff_ffffn]) {
    for (const [kind, schema, request] of cases) {
      it(`is byte-identical to protobuf-es for a ${kind} with id ${id}, from the message and from its wire bytes`, () => {
        const expected = toBinary(
          KvRequestSchema,
          create(KvRequestSchema, { id, request: { case: kind, value: request } as never }),
        );
        expect(
          encodeKvEnvelope(id, kind, schema as never, request as never, undefined, 1 << 20),
        ).toEqual(expected);
        const raw = toBinary(schema as never, request as never);
        expect(encodeKvEnvelope(id, kind, schema as never, request as never, raw, 1 << 20)).toEqual(
          expected,
        );
      });
    }
  }

  it("refuses an envelope above the size limit with etcd's request-too-large error", () => {
    expect(() => encodeKvEnvelope(1n, "put", PutRequestSchema, put, undefined, 100)).toThrow(
      RequestTooLargeError,
    );
  });
});
