import { create, toBinary } from "@bufbuild/protobuf";
import { PutResponseSchema } from "@raftkv/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApplyBatch } from "./apply-batch.js";
import { CompactedError } from "./errors.js";
import { Keyspace } from "./keyspace.js";
import { RequestTable } from "./request-table.js";

function stored(
  table: RequestTable,
  id: bigint,
  result: Parameters<RequestTable["remember"]>[1],
): Uint8Array {
  const batch = new ApplyBatch(0);
  table.remember(id, result, batch);
  const op = batch.operations[0];
  if (op?.type !== "put") throw new Error("expected a put");
  return op.value;
}

describe("RequestTable", () => {
  it("stores a plain put's answer as exactly the id, the kind and the protobuf-es encoding", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (id, revision) => {
          const response = create(PutResponseSchema, { header: { revision: BigInt(revision) } });
          const bytes = stored(new RequestTable(new Keyspace(0)), id, response);
          const expected = new Uint8Array(9 + toBinary(PutResponseSchema, response).length);
          for (let i = 0; i < 8; i++) expected[i] = Number((id >> BigInt(56 - 8 * i)) & 0xffn);
          expected[8] = 1;
          expected.set(toBinary(PutResponseSchema, response), 9);
          expect(bytes).toEqual(expected);
        },
      ),
    );
  });

  it("answers a remembered id with an equal result, also after loading from storage", () => {
    const keys = new Keyspace(1);
    const table = new RequestTable(keys);
    const response = create(PutResponseSchema, {
      header: { revision: 12n },
      prevKv: { key: Uint8Array.of(1), version: 2n },
    });
    const batch = new ApplyBatch(0);
    table.remember(2n ** 63n + 5n, response, batch);
    table.remember(7n, new CompactedError(), batch);
    expect(table.lookup(2n ** 63n + 5n)).toEqual(response);
    expect(table.lookup(7n)).toMatchObject({ code: "COMPACTED" });
    expect(table.lookup(8n)).toBeUndefined();
    const loaded = new RequestTable(keys);
    for (const op of batch.operations) {
      if (op.type === "put") loaded.load(keys.parseRequestKey(op.key), op.value);
    }
    expect(loaded.lookup(2n ** 63n + 5n)).toEqual(response);
    expect(loaded.lookup(7n)).toBeInstanceOf(CompactedError);
  });
});
