/**
 * Differential test against a real etcd 3.4: one seeded random sequence of requests goes
 * to a local etcd and to an MvccStore; every response is compared field by field
 * (revisions, versions, counts, more, prev_kv, txn branches, errors with their gRPC
 * status and message). Replay a failure with MVCC_DIFF_SEED=<seed>; MVCC_DIFF_OPS sets the
 * length (default 2500).
 */
import { create, type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  CompactionResponseSchema,
  DeleteRangeResponseSchema,
  type KvRequest,
  PutResponseSchema,
  RangeRequestSchema,
  RangeResponseSchema,
  type ResponseHeader,
  type TxnRequest,
  TxnResponseSchema,
} from "@raftkv/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MvccError } from "./errors.js";
import { createMemoryBackend } from "./memory-backend.js";
import { type MvccStore, openMvccStore } from "./mvcc-store.js";
import { type EtcdProcess, startEtcd } from "./testdata/etcd-process.js";
import { type RandomOp, RequestGenerator } from "./testdata/random-requests.js";
import { encodeKvRequest, isTxnReadOnly, validateTxnRequest } from "./validate.js";

const seed = Number(process.env.MVCC_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const opCount = Number(process.env.MVCC_DIFF_OPS ?? 2500);

/** A response as canonical JSON, or an error as its gRPC status and message. */
type Outcome = { response: unknown } | { error: { status: number; message: string } };

const schemas = {
  range: RangeResponseSchema,
  put: PutResponseSchema,
  deleteRange: DeleteRangeResponseSchema,
  txn: TxnResponseSchema,
  compaction: CompactionResponseSchema,
} as const;

/**
 * The top-level header's cluster_id, member_id and raft_term are the server's (and etcd's
 * are real); only the revision is the state machine's.
 */
function canonical<D extends DescMessage>(schema: D, message: MessageShape<D>): unknown {
  const header = (message as { header?: ResponseHeader }).header;
  if (header !== undefined) {
    header.clusterId = 0n;
    header.memberId = 0n;
    header.raftTerm = 0n;
  }
  return toJson(schema, message);
}

describe("differential test against etcd 3.4", () => {
  let etcd: EtcdProcess;
  let store: MvccStore;
  let nextId = 1n;

  beforeAll(async () => {
    etcd = await startEtcd();
    store = await openMvccStore({ backend: createMemoryBackend(), valueCacheBytes: 64 * 1024 });
  }, 120_000);

  afterAll(async () => {
    await etcd?.stop();
  });

  async function viaEtcd(op: RandomOp): Promise<Outcome> {
    try {
      switch (op.kind) {
        case "range":
          return { response: canonical(RangeResponseSchema, await etcd.kv.range(op.request)) };
        case "put":
          return { response: canonical(PutResponseSchema, await etcd.kv.put(op.request)) };
        case "deleteRange":
          return {
            response: canonical(DeleteRangeResponseSchema, await etcd.kv.deleteRange(op.request)),
          };
        case "txn":
          return { response: canonical(TxnResponseSchema, await etcd.kv.txn(op.request)) };
        case "compaction":
          return {
            response: canonical(CompactionResponseSchema, await etcd.kv.compact(op.request)),
          };
      }
    } catch (error) {
      const e = ConnectError.from(error);
      return { error: { status: e.code, message: e.rawMessage } };
    }
  }

  async function viaStore(op: RandomOp): Promise<Outcome> {
    try {
      if (op.kind === "range")
        return { response: canonical(RangeResponseSchema, await store.range(op.request)) };
      if (op.kind === "txn" && isTxnReadOnly(op.request)) {
        validateTxnRequest(op.request);
        return { response: canonical(TxnResponseSchema, await store.txnRead(op.request)) };
      }
      const request = {
        $typeName: "raftkv.kv.v1.KvRequest",
        id: nextId++,
        request: { case: op.kind, value: op.request },
      };
      const data = encodeKvRequest(request as KvRequest);
      const index = store.lastAppliedIndex() + 1;
      const [result] = await store.apply([{ index, term: 1, type: 0, data }]);
      if (result instanceof MvccError) throw result;
      return { response: canonical(schemas[op.kind], result as never) };
    } catch (error) {
      if (!(error instanceof MvccError)) throw error;
      return { error: { status: error.grpcStatus, message: error.message } };
    }
  }

  it(`answers ${opCount} random requests exactly as etcd (seed ${seed})`, async () => {
    const generator = new RequestGenerator(seed);
    const tally = new Map<string, number>();
    for (let i = 0; i < opCount; i++) {
      // Generated one at a time: the generator aims at the store's current revisions.
      const op =
        i === Math.floor(opCount / 3)
          ? generator.bigPut(1.6 * 1024 * 1024)
          : i === Math.floor(opCount / 2)
            ? generator.bigPut(1.4 * 1024 * 1024)
            : generator.next();
      if (crashesEtcd(op)) {
        tally.set("skipped: would crash etcd", (tally.get("skipped: would crash etcd") ?? 0) + 1);
        continue;
      }
      const theirs = await viaEtcd(op);
      const ours = await viaStore(op);
      const label =
        "error" in theirs ? `${op.kind}:error:${theirs.error.message}` : `${op.kind}:ok`;
      tally.set(label, (tally.get(label) ?? 0) + 1);
      expect(ours, `seed ${seed}, op ${i}: ${describeOp(op)}`).toEqual(theirs);
      generator.revision = store.currentRevision();
      generator.compacted = store.compactedRevision();
    }
    // Every revision still in history reads the same, whole keyspace.
    const from = Math.max(store.compactedRevision(), store.currentRevision() - 150);
    for (let revision = from; revision <= store.currentRevision(); revision++) {
      const request = create(RangeRequestSchema, {
        key: Uint8Array.of(0),
        rangeEnd: Uint8Array.of(0),
        revision: BigInt(revision),
      });
      const op: RandomOp = { kind: "range", request };
      expect(await viaStore(op), `seed ${seed}, full read at ${revision}`).toEqual(
        await viaEtcd(op),
      );
    }
    // The run must have exercised the interesting outcomes, or it proves little.
    const seen = [...tally.keys()].join("\n");
    for (const expected of [
      "txn:ok",
      "range:ok",
      "put:ok",
      "deleteRange:ok",
      "compaction:ok",
      "duplicate key given in txn request",
      "required revision has been compacted",
      "required revision is a future revision",
      "key is not provided",
      "request is too large",
    ]) {
      expect(seen, `seed ${seed}: outcome "${expected}" never happened`).toContain(expected);
    }
  }, 600_000);
});

/**
 * etcd 3.4 panics (and exits) on a txn whose put with ignore_value or ignore_lease follows
 * a delete with range_end "\0" covering its key: its duplicate check misses such deletes
 * and the put then fails inside the txn. raftkv refuses it up front (see the store tests);
 * here such txns are left out for both sides, conservatively: any "\0" delete together with
 * any ignore_* put anywhere in the txn.
 */
function crashesEtcd(op: RandomOp): boolean {
  if (op.kind !== "txn") return false;
  let fromKeyDelete = false;
  let ignoringPut = false;
  const walk = (txn: TxnRequest) => {
    for (const { request } of [...txn.success, ...txn.failure]) {
      if (request.case === "requestDeleteRange") {
        const end = request.value.rangeEnd;
        if (end.length === 1 && end[0] === 0) fromKeyDelete = true;
      } else if (request.case === "requestPut") {
        if (request.value.ignoreValue || request.value.ignoreLease) ignoringPut = true;
      } else if (request.case === "requestTxn") {
        walk(request.value);
      }
    }
  };
  walk(op.request);
  return fromKeyDelete && ignoringPut;
}

function describeOp(op: RandomOp): string {
  return JSON.stringify(op, (_, v: unknown) =>
    typeof v === "bigint"
      ? `${v}n`
      : v instanceof Uint8Array
        ? v.length > 64
          ? `<${v.length} bytes>`
          : Buffer.from(v).toString()
        : v,
  );
}
