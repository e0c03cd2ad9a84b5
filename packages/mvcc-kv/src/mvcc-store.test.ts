import { create, toBinary } from "@bufbuild/protobuf";
import {
  KvRequestSchema,
  Compare_CompareResult as Result,
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
  Compare_CompareTarget as Target,
  type TxnResponse,
} from "@raftkv/proto";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { MvccBackend } from "./backend.js";
import {
  ApplyOrderError,
  CompactedError,
  DuplicateKeyError,
  DuplicateRequestError,
  EmptyKeyError,
  FutureRevisionError,
  InvalidRequestError,
  KeyNotFoundError,
  LeaseNotFoundError,
  StoreClosedError,
  StoreFailedError,
} from "./errors.js";
import { createMemoryBackend } from "./memory-backend.js";
import { MAX_REMEMBERED_RESULT_BYTES, REQUEST_ID_WINDOW } from "./request-table.js";
import { backendFactories } from "./testdata/backends.js";
import { dec, enc, Harness, ok, rawBackend } from "./testdata/harness.js";

describe.each(backendFactories)("MvccStore on the $name backend", (factory) => {
  const backends: MvccBackend[] = [];
  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.close().catch(() => {});
  });
  async function fresh(options = {}): Promise<Harness> {
    const backend = await factory.create();
    backends.push(backend);
    return Harness.open(backend, options);
  }

  describe("revisions", () => {
    it("starts at revision 1 with applied index 0, as etcd", async () => {
      const h = await fresh();
      expect(h.store.currentRevision()).toBe(1);
      expect(h.store.appliedIndex()).toBe(0);
      const response = await h.range({ key: enc("a") });
      expect(response.header?.revision).toBe(1n);
      expect(response.count).toBe(0n);
    });

    it("gives each write its own main revision and tracks create, mod and version", async () => {
      const h = await fresh();
      expect((await h.put("a", "1")).header?.revision).toBe(2n);
      expect((await h.put("b", "1")).header?.revision).toBe(3n);
      expect((await h.put("a", "2")).header?.revision).toBe(4n);
      const [kv] = (await h.range({ key: enc("a") })).kvs;
      expect(kv).toMatchObject({ createRevision: 2n, modRevision: 4n, version: 2n, lease: 0n });
      expect(dec(kv!.value)).toBe("2");
      expect(h.store.currentRevision()).toBe(4);
      expect(h.store.lastAppliedIndex()).toBe(3);
      await h.store.flush();
      expect(h.store.appliedIndex()).toBe(3);
    });

    it("starts a new generation after a delete: version 1 and a new create revision", async () => {
      const h = await fresh();
      await h.put("a", "1");
      await h.put("a", "2");
      const deleted = await h.del("a");
      expect(deleted.deleted).toBe(1n);
      expect(deleted.header?.revision).toBe(4n);
      await h.put("a", "3");
      const [kv] = (await h.range({ key: enc("a") })).kvs;
      expect(kv).toMatchObject({ createRevision: 5n, modRevision: 5n, version: 1n });
      // History stays readable until compacted.
      expect(await h.get("a", undefined, { revision: 3n })).toEqual([["a", "2"]]);
      expect(await h.get("a", undefined, { revision: 4n })).toEqual([]);
    });

    it("does not move the revision when a delete finds nothing", async () => {
      const h = await fresh();
      await h.put("a", "1");
      const response = await h.del("zzz");
      expect(response.deleted).toBe(0n);
      expect(response.header?.revision).toBe(2n);
      expect(h.store.currentRevision()).toBe(2);
    });
  });

  describe("range", () => {
    async function filled(): Promise<Harness> {
      const h = await fresh();
      for (const k of ["a", "b", "c", "d", "e"]) await h.put(k, `v${k}`);
      await h.put("b", "vb2");
      await h.put("foo", "1");
      await h.put("foo/bar", "2");
      await h.put("fop", "3");
      return h;
    }

    it("reads one key, a [key, range_end) range, a prefix and all keys from key with \\0", async () => {
      const h = await filled();
      expect(await h.get("c")).toEqual([["c", "vc"]]);
      expect((await h.get("b", "d")).map(([k]) => k)).toEqual(["b", "c"]);
      expect((await h.get("foo", "fop")).map(([k]) => k)).toEqual(["foo", "foo/bar"]);
      expect((await h.get("e", "\u0000")).map(([k]) => k)).toEqual(["e", "foo", "foo/bar", "fop"]);
      expect((await h.get("\u0000", "\u0000")).length).toBe(8);
      expect(await h.get("c", "a")).toEqual([]);
    });

    it("answers limit with more and the full count", async () => {
      const h = await filled();
      const response = await h.range({ key: enc("a"), rangeEnd: enc("z"), limit: 3n });
      expect(response.kvs.map((kv) => dec(kv.key))).toEqual(["a", "b", "c"]);
      expect(response.more).toBe(true);
      expect(response.count).toBe(8n);
      const exact = await h.range({ key: enc("a"), rangeEnd: enc("z"), limit: 8n });
      expect(exact.more).toBe(false);
      const negative = await h.range({ key: enc("a"), rangeEnd: enc("z"), limit: -1n });
      expect(negative.kvs).toHaveLength(8);
    });

    it("reads history at a revision, with the header at the current revision", async () => {
      const h = await filled();
      const response = await h.range({ key: enc("b"), revision: 3n });
      expect(dec(response.kvs[0]!.value)).toBe("vb");
      expect(response.header?.revision).toBe(10n);
      expect(await h.get("foo", undefined, { revision: 7n })).toEqual([]);
      expect(await h.get("b", undefined, { revision: -5n })).toEqual([["b", "vb2"]]);
    });

    it("rejects future revisions and revisions below the compacted one", async () => {
      const h = await filled();
      await expect(h.range({ key: enc("a"), revision: 11n })).rejects.toBeInstanceOf(
        FutureRevisionError,
      );
      await h.compactOk(5);
      await expect(h.range({ key: enc("a"), revision: 4n })).rejects.toBeInstanceOf(CompactedError);
      expect(await h.get("a", undefined, { revision: 5n })).toEqual([["a", "va"]]);
    });

    it("rejects an empty key with etcd's message and status", async () => {
      const h = await fresh();
      const error = await h.range({ key: new Uint8Array(0) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmptyKeyError);
      expect(error).toMatchObject({
        code: "EMPTY_KEY",
        grpcStatus: 3,
        message: "etcdserver: key is not provided",
      });
    });

    it("counts only, or returns keys without values", async () => {
      const h = await filled();
      const counted = await h.range({
        key: enc("a"),
        rangeEnd: enc("z"),
        countOnly: true,
        limit: 1n,
      });
      expect(counted.kvs).toEqual([]);
      expect(counted.count).toBe(8n);
      expect(counted.more).toBe(false);
      const keys = await h.range({ key: enc("a"), rangeEnd: enc("c"), keysOnly: true });
      expect(keys.kvs.map((kv) => [dec(kv.key), kv.value.length, kv.version])).toEqual([
        ["a", 0, 1n],
        ["b", 0, 2n],
      ]);
    });

    it("sorts by each target in either order, with limit applied after the sort", async () => {
      const h = await filled();
      const all = { key: enc("a"), rangeEnd: enc("z") };
      const byMod = await h.range({
        ...all,
        sortTarget: SortTarget.MOD,
        sortOrder: SortOrder.DESCEND,
        limit: 2n,
      });
      expect(byMod.kvs.map((kv) => dec(kv.key))).toEqual(["fop", "foo/bar"]);
      expect(byMod.more).toBe(true);
      expect(byMod.count).toBe(8n);
      const byVersion = await h.range({
        ...all,
        sortTarget: SortTarget.VERSION,
        sortOrder: SortOrder.DESCEND,
      });
      expect(dec(byVersion.kvs[0]!.key)).toBe("b");
      const byValue = await h.range({ ...all, sortTarget: SortTarget.VALUE });
      expect(byValue.kvs.map((kv) => dec(kv.value))).toEqual([
        "1",
        "2",
        "3",
        "va",
        "vb2",
        "vc",
        "vd",
        "ve",
      ]);
      const byCreate = await h.range({
        ...all,
        sortTarget: SortTarget.CREATE,
        sortOrder: SortOrder.ASCEND,
      });
      expect(byCreate.kvs.map((kv) => dec(kv.key))).toEqual([
        "a",
        "b",
        "c",
        "d",
        "e",
        "foo",
        "foo/bar",
        "fop",
      ]);
      const byKeyDown = await h.range({ ...all, sortOrder: SortOrder.DESCEND, limit: 1n });
      expect(byKeyDown.kvs.map((kv) => dec(kv.key))).toEqual(["fop"]);
    });

    it("filters on mod and create revisions after counting, with more after the filter", async () => {
      const h = await filled();
      const all = { key: enc("a"), rangeEnd: enc("z") };
      const recent = await h.range({ ...all, minModRevision: 7n });
      expect(recent.kvs.map((kv) => dec(kv.key))).toEqual(["b", "foo", "foo/bar", "fop"]);
      expect(recent.count).toBe(8n);
      const limited = await h.range({ ...all, minModRevision: 7n, limit: 2n });
      expect(limited.kvs.map((kv) => dec(kv.key))).toEqual(["b", "foo"]);
      expect(limited.more).toBe(true);
      const old = await h.range({ ...all, maxCreateRevision: 3n, minCreateRevision: 3n });
      expect(old.kvs.map((kv) => dec(kv.key))).toEqual(["b"]);
      const window = await h.range({ ...all, maxModRevision: 5n, minCreateRevision: 4n });
      expect(window.kvs.map((kv) => dec(kv.key))).toEqual(["c", "d"]);
    });
  });

  describe("put and delete", () => {
    it("returns prev_kv, keeps the value with ignore_value and the lease with ignore_lease", async () => {
      const h = await fresh();
      expect((await h.put("a", "1", { prevKv: true })).prevKv).toBeUndefined();
      const second = await h.put("a", "2", { prevKv: true });
      expect(dec(second.prevKv!.value)).toBe("1");
      expect(second.prevKv).toMatchObject({ modRevision: 2n, version: 1n });
      await h.put("a", "", { ignoreValue: true });
      expect(await h.get("a")).toEqual([["a", "2"]]);
      await h.put("a", "3", { ignoreLease: true });
      expect(await h.get("a")).toEqual([["a", "3"]]);
    });

    it("answers ignore_value on a missing key with KeyNotFound, at no revision", async () => {
      const h = await fresh();
      const result = await h.apply({
        request: { case: "put", value: { key: enc("x"), ignoreValue: true } },
      });
      expect(result).toBeInstanceOf(KeyNotFoundError);
      expect(result).toMatchObject({ grpcStatus: 3, message: "etcdserver: key not found" });
      expect(h.store.currentRevision()).toBe(1);
      expect(h.store.lastAppliedIndex()).toBe(1);
    });

    it("answers a lease that was never granted with LeaseNotFound, and accepts granted ones", async () => {
      const h = await fresh();
      const result = await h.apply({
        request: { case: "put", value: { key: enc("x"), lease: 7n } },
      });
      expect(result).toBeInstanceOf(LeaseNotFoundError);
      expect(result).toMatchObject({
        grpcStatus: 5,
        message: "etcdserver: requested lease not found",
      });
      const leased = await fresh({ leases: { has: (id: bigint) => id === 7n } });
      await leased.put("x", "v", { lease: 7n });
      expect((await leased.range({ key: enc("x") })).kvs[0]?.lease).toBe(7n);
    });

    it("deletes a range with prev_kvs and the deleted count, as one revision", async () => {
      const h = await fresh();
      for (const k of ["a", "b", "c"]) await h.put(k, k);
      const response = await h.del("a", "c", { prevKv: true });
      expect(response.deleted).toBe(2n);
      expect(response.prevKvs.map((kv) => dec(kv.key))).toEqual(["a", "b"]);
      expect(response.header?.revision).toBe(5n);
      expect(await h.get("a", "\u0000")).toEqual([["c", "c"]]);
      expect(await h.get("a", "z", { revision: 4n })).toHaveLength(3);
    });
  });

  describe("txn", () => {
    it("takes the success branch when every compare holds, as one revision", async () => {
      const h = await fresh();
      await h.put("a", "1");
      const response = await h.txn({
        compare: [
          {
            key: enc("a"),
            target: Target.VALUE,
            result: Result.EQUAL,
            targetUnion: { case: "value", value: enc("1") },
          },
          {
            key: enc("a"),
            target: Target.VERSION,
            result: Result.GREATER,
            targetUnion: { case: "version", value: 0n },
          },
          {
            key: enc("a"),
            target: Target.CREATE,
            result: Result.LESS,
            targetUnion: { case: "createRevision", value: 3n },
          },
          {
            key: enc("a"),
            target: Target.MOD,
            result: Result.NOT_EQUAL,
            targetUnion: { case: "modRevision", value: 9n },
          },
          {
            key: enc("a"),
            target: Target.LEASE,
            result: Result.EQUAL,
            targetUnion: { case: "lease", value: 0n },
          },
        ],
        success: [
          { request: { case: "requestPut", value: { key: enc("b"), value: enc("x") } } },
          {
            request: {
              case: "requestPut",
              value: { key: enc("c"), value: enc("y"), prevKv: true },
            },
          },
          { request: { case: "requestRange", value: { key: enc("a"), rangeEnd: enc("z") } } },
        ],
        failure: [{ request: { case: "requestPut", value: { key: enc("f"), value: enc("no") } } }],
      });
      expect(response.succeeded).toBe(true);
      expect(response.header?.revision).toBe(3n);
      const [put1, put2, read] = response.responses.map((r) => r.response);
      expect(put1?.case === "responsePut" && put1.value.header?.revision).toBe(3n);
      expect(put2?.case === "responsePut" && put2.value.prevKv).toBeUndefined();
      // A range after the txn's own writes sees them, at the txn's revision.
      expect(read?.case === "responseRange" && read.value.kvs.map((kv) => dec(kv.key))).toEqual([
        "a",
        "b",
        "c",
      ]);
      expect(read?.case === "responseRange" && read.value.header?.revision).toBe(3n);
      const [b, c] = [(await h.get("b"))[0], (await h.get("c"))[0]];
      expect([b, c]).toEqual([
        ["b", "x"],
        ["c", "y"],
      ]);
      const kvs = (await h.range({ key: enc("b"), rangeEnd: enc("d") })).kvs;
      expect(kvs.map((kv) => kv.modRevision)).toEqual([3n, 3n]);
    });

    it("takes the failure branch when a compare fails; an absent key fails VALUE but compares as zero otherwise", async () => {
      const h = await fresh();
      const value = await h.txn({
        compare: [
          {
            key: enc("nope"),
            target: Target.VALUE,
            result: Result.EQUAL,
            targetUnion: { case: "value", value: new Uint8Array(0) },
          },
        ],
      });
      expect(value.succeeded).toBe(false);
      const version = await h.txn({
        compare: [
          {
            key: enc("nope"),
            target: Target.VERSION,
            result: Result.EQUAL,
            targetUnion: { case: "version", value: 0n },
          },
        ],
      });
      expect(version.succeeded).toBe(true);
      expect(version.header?.revision).toBe(1n);
    });

    it("requires every key of a range compare to hold", async () => {
      const h = await fresh();
      await h.put("k1", "a");
      await h.put("k2", "b");
      const all = (result: Result, v: string) =>
        h.txn({
          compare: [
            {
              key: enc("k"),
              rangeEnd: enc("l"),
              target: Target.VALUE,
              result,
              targetUnion: { case: "value", value: enc(v) },
            },
          ],
        });
      expect((await all(Result.GREATER, "0")).succeeded).toBe(true);
      expect((await all(Result.EQUAL, "a")).succeeded).toBe(false);
    });

    it("evaluates nested txn compares before any op runs, and gives nested headers revision 0", async () => {
      const h = await fresh();
      await h.put("a", "1");
      const response = await h.txn({
        success: [
          { request: { case: "requestPut", value: { key: enc("a"), value: enc("2") } } },
          {
            request: {
              case: "requestTxn",
              value: {
                compare: [
                  {
                    key: enc("a"),
                    target: Target.VALUE,
                    result: Result.EQUAL,
                    targetUnion: { case: "value", value: enc("1") },
                  },
                ],
                success: [
                  {
                    request: { case: "requestPut", value: { key: enc("b"), value: enc("inner") } },
                  },
                ],
              },
            },
          },
        ],
      });
      const nested = response.responses[1]?.response;
      expect(nested?.case).toBe("responseTxn");
      const inner = nested!.value as TxnResponse;
      expect(inner.succeeded).toBe(true);
      expect(inner.header?.revision).toBe(0n);
      expect(response.header?.revision).toBe(3n);
      expect(await h.get("b")).toEqual([["b", "inner"]]);
    });

    it("rejects a key put twice, or put and deleted, with etcd's duplicate-key error", async () => {
      const h = await fresh();
      const twice = await h.apply({
        request: {
          case: "txn",
          value: {
            success: [
              { request: { case: "requestPut", value: { key: enc("a"), value: enc("1") } } },
              { request: { case: "requestPut", value: { key: enc("a"), value: enc("2") } } },
            ],
          },
        },
      });
      expect(twice).toBeInstanceOf(DuplicateKeyError);
      expect(twice).toMatchObject({
        grpcStatus: 3,
        message: "etcdserver: duplicate key given in txn request",
      });
      const putAndDelete = await h.apply({
        request: {
          case: "txn",
          value: {
            success: [
              {
                request: {
                  case: "requestDeleteRange",
                  value: { key: enc("a"), rangeEnd: enc("c") },
                },
              },
              { request: { case: "requestPut", value: { key: enc("b"), value: enc("2") } } },
            ],
          },
        },
      });
      expect(putAndDelete).toBeInstanceOf(DuplicateKeyError);
      expect(h.store.currentRevision()).toBe(1);
    });

    it("fails a whole txn whose range asks for a compacted or future revision, changing nothing", async () => {
      const h = await fresh();
      await h.put("a", "1");
      await h.put("a", "2");
      await h.compactOk(3);
      const ops = (revision: bigint) => ({
        request: {
          case: "txn" as const,
          value: {
            success: [
              {
                request: { case: "requestPut" as const, value: { key: enc("b"), value: enc("x") } },
              },
              { request: { case: "requestRange" as const, value: { key: enc("a"), revision } } },
            ],
          },
        },
      });
      expect(await h.apply(ops(2n))).toBeInstanceOf(CompactedError);
      expect(await h.apply(ops(9n))).toBeInstanceOf(FutureRevisionError);
      expect(await h.get("b")).toEqual([]);
      expect(h.store.currentRevision()).toBe(3);
    });

    it("refuses an ignore_value put whose key an earlier \\0 delete of the txn removed (etcd 3.4 panics here)", async () => {
      const h = await fresh();
      await h.put("a", "1");
      await h.put("b", "2");
      const result = await h.apply({
        request: {
          case: "txn",
          value: {
            success: [
              {
                request: {
                  case: "requestDeleteRange",
                  value: { key: enc("a"), rangeEnd: Uint8Array.of(0) },
                },
              },
              { request: { case: "requestPut", value: { key: enc("b"), ignoreValue: true } } },
            ],
          },
        },
      });
      expect(result).toBeInstanceOf(KeyNotFoundError);
      expect(h.store.currentRevision()).toBe(3);
      expect(await h.get("a", "\u0000")).toEqual([
        ["a", "1"],
        ["b", "2"],
      ]);
      // A plain put after such a delete is fine: it starts a new generation at the same revision.
      const ok = await h.txn({
        success: [
          {
            request: {
              case: "requestDeleteRange",
              value: { key: enc("a"), rangeEnd: Uint8Array.of(0) },
            },
          },
          { request: { case: "requestPut", value: { key: enc("b"), value: enc("new") } } },
        ],
      });
      expect(ok.header?.revision).toBe(4n);
      expect((await h.range({ key: enc("b") })).kvs[0]).toMatchObject({
        createRevision: 4n,
        version: 1n,
      });
      expect(await h.get("a")).toEqual([]);
    });

    it("serves read-only txns outside Raft at the current revision", async () => {
      const h = await fresh();
      await h.put("a", "1");
      const response = await h.store.txnRead(
        h.txnRequest({
          success: [{ request: { case: "requestRange", value: { key: enc("a") } } }],
        }),
      );
      expect(response.header?.revision).toBe(2n);
      const read = response.responses[0]?.response;
      expect(read?.case === "responseRange" && dec(read.value.kvs[0]!.value)).toBe("1");
      await expect(
        h.store.txnRead(
          h.txnRequest({
            success: [{ request: { case: "requestPut", value: { key: enc("a") } } }],
          }),
        ),
      ).rejects.toBeInstanceOf(InvalidRequestError);
    });
  });

  describe("compaction", () => {
    it("removes history below the revision but keeps the latest version of every live key", async () => {
      const h = await fresh();
      await h.put("a", "1"); // 2
      await h.put("a", "2"); // 3
      await h.put("b", "1"); // 4
      await h.del("b"); // 5
      await h.put("c", "1"); // 6
      await h.put("a", "3"); // 7
      const before = (await h.dump()).filter((e) => e.startsWith("01")).length;
      expect(before).toBe(6);
      const response = await h.compactOk(6);
      expect(response.header?.revision).toBe(7n);
      expect(h.store.compactedRevision()).toBe(6);
      // Kept: a@3 (visible at 6), c@6, a@7. Removed: a@2, b@4, b's tombstone @5.
      const after = (await h.dump()).filter((e) => e.startsWith("01")).length;
      expect(after).toBe(3);
      expect(await h.get("a", undefined, { revision: 6n })).toEqual([["a", "2"]]);
      expect(await h.get("a", "z", { revision: 6n })).toEqual([
        ["a", "2"],
        ["c", "1"],
      ]);
      expect(await h.get("a", "z")).toEqual([
        ["a", "3"],
        ["c", "1"],
      ]);
    });

    it("answers a second compaction at or below the first with Compacted, above current with FutureRev", async () => {
      const h = await fresh();
      await h.put("a", "1");
      await h.compactOk(2);
      expect(await h.compact(2)).toBeInstanceOf(CompactedError);
      expect(await h.compact(1)).toBeInstanceOf(CompactedError);
      const future = await h.compact(3);
      expect(future).toBeInstanceOf(FutureRevisionError);
      expect(future).toMatchObject({
        grpcStatus: 11,
        message: "etcdserver: mvcc: required revision is a future revision",
      });
    });

    it("survives a restart: the compacted revision and the current revision are rebuilt", async () => {
      let h = await fresh();
      await h.put("a", "1");
      await h.del("a");
      await h.compactOk(3);
      h = await h.reopen(factory.reopen);
      backends.push(h.backend);
      expect(h.store.compactedRevision()).toBe(3);
      expect(h.store.currentRevision()).toBe(3);
      expect((await h.put("b", "1")).header?.revision).toBe(4n);
    });
  });

  describe("as a replicated state machine", () => {
    it("skips conf-change and empty entries but advances the applied index", async () => {
      const h = await fresh();
      const data = toBinary(
        KvRequestSchema,
        create(KvRequestSchema, {
          request: { case: "put", value: { key: enc("a"), value: enc("1") } },
        }),
      );
      const results = await h.store.apply([
        { index: 1, term: 1, type: 0, data: new Uint8Array(0) },
        { index: 2, term: 1, type: 1, data: Uint8Array.of(1, 2, 3) },
        { index: 3, term: 1, type: 0, data },
      ]);
      expect(results[0]).toBeUndefined();
      expect(results[1]).toBeUndefined();
      expect(ok<{ header: { revision: bigint } }>(results[2]).header.revision).toBe(2n);
      expect(h.store.lastAppliedIndex()).toBe(3);
      // Replayed entries at or below the applied index are skipped.
      expect(await h.store.apply([{ index: 3, term: 1, type: 0, data }])).toEqual([undefined]);
      expect(h.store.currentRevision()).toBe(2);
    });

    it("rejects entries that leave a gap, applying none of them", async () => {
      const h = await fresh();
      await expect(
        h.store.apply([{ index: 2, term: 1, type: 0, data: new Uint8Array(0) }]),
      ).rejects.toBeInstanceOf(ApplyOrderError);
      expect(h.store.lastAppliedIndex()).toBe(0);
      await h.put("a", "1");
      expect(h.store.lastAppliedIndex()).toBe(1);
    });

    it("answers an undecodable entry with InvalidRequest on every member, without failing", async () => {
      const h = await fresh();
      const [result] = await h.store.apply([
        { index: 1, term: 1, type: 0, data: Uint8Array.of(0xff, 0xff, 0xff) },
      ]);
      expect(result).toBeInstanceOf(InvalidRequestError);
      const [empty] = await h.store.apply([
        { index: 2, term: 1, type: 0, data: Uint8Array.of(0x08, 0x05) },
      ]);
      expect(empty).toBeInstanceOf(InvalidRequestError);
      expect(h.store.lastAppliedIndex()).toBe(2);
      await h.put("a", "1");
    });

    it("applies a request id once and answers a repeat with the first result", async () => {
      const h = await fresh();
      const put = {
        id: 42n,
        request: { case: "put" as const, value: { key: enc("a"), value: enc("1") } },
      };
      const first = ok<{ header: { revision: bigint } }>(await h.apply(put));
      await h.put("b", "1");
      const again = ok<{ header: { revision: bigint } }>(await h.apply(put));
      expect(again.header.revision).toBe(first.header.revision);
      expect((await h.range({ key: enc("a") })).kvs[0]?.version).toBe(1n);
      // Errors are remembered as well; and the table survives a restart.
      const bad = {
        id: 43n,
        request: { case: "put" as const, value: { key: enc("zz"), ignoreValue: true } },
      };
      expect(await h.apply(bad)).toBeInstanceOf(KeyNotFoundError);
      const h2 = await h.reopen(factory.reopen);
      backends.push(h2.backend);
      expect(await h2.apply(bad)).toBeInstanceOf(KeyNotFoundError);
      expect(ok<{ header: { revision: bigint } }>(await h2.apply(put)).header.revision).toBe(
        first.header.revision,
      );
      expect(h2.store.currentRevision()).toBe(3);
    });

    it("reaches byte-identical backends on two members applying the same log in different batches", async () => {
      const [x, y] = [await fresh(), await fresh({ valueCacheBytes: 0 })];
      const log = [
        { id: 1n, request: { case: "put" as const, value: { key: enc("a"), value: enc("1") } } },
        {
          id: 2n,
          request: {
            case: "put" as const,
            value: { key: enc("b"), value: enc("2"), prevKv: true },
          },
        },
        { request: { case: "deleteRange" as const, value: { key: enc("a") } } },
        { request: { case: "compaction" as const, value: { revision: 3n } } },
        { id: 3n, request: { case: "put" as const, value: { key: enc("a"), value: enc("3") } } },
      ];
      await x.applyAll(log);
      for (const request of log) await y.apply(request);
      expect(await y.dump()).toEqual(await x.dump());
      expect(await y.store.hashKV()).toEqual(await x.store.hashKV());
    });

    it("rebuilds the same state when reopened on its backend", async () => {
      const h = await fresh();
      for (let i = 0; i < 50; i++) await h.put(`k${i % 7}`, `v${i}`);
      await h.del("k3");
      await h.compactOk(30);
      const before = { hash: await h.store.hashKV(), all: await h.get("\u0000", "\u0000") };
      const h2 = await h.reopen(factory.reopen);
      backends.push(h2.backend);
      expect(await h2.store.hashKV()).toEqual(before.hash);
      expect(await h2.get("\u0000", "\u0000")).toEqual(before.all);
      expect(h2.store.currentRevision()).toBe(h.store.currentRevision());
      expect((await h2.put("k1", "x")).header?.revision).toBe(
        BigInt(h.store.currentRevision() + 1),
      );
    });

    it("streams a snapshot that restores elsewhere into a byte-identical state", async () => {
      const source = await fresh({ snapshotChunkBytes: 100 });
      for (let i = 0; i < 40; i++) await source.put(`key-${i % 9}`, "x".repeat(i * 3));
      await source.del("key-2");
      await source.apply({
        id: 9n,
        request: { case: "put", value: { key: enc("dedup"), value: enc("1") } },
      });
      await source.compactOk(20);
      const index = source.store.lastAppliedIndex();
      const chunks: Uint8Array[] = [];
      for await (const chunk of source.store.snapshot()) chunks.push(chunk);
      expect(chunks.length).toBeGreaterThan(3);
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(100);
      const target = await fresh();
      await target.put("stale", "gone");
      await target.store.restore({ index }, toAsync(chunks));
      expect(target.store.appliedIndex()).toBe(index);
      expect(await target.dump()).toEqual(await source.dump());
      expect(await target.store.hashKV()).toEqual(await source.store.hashKV());
      expect(await target.get("stale")).toEqual([]);
      // The request-id table came along.
      const again = await target.apply({
        id: 9n,
        request: { case: "put", value: { key: enc("dedup"), value: enc("2") } },
      });
      expect(ok<{ header: { revision: bigint } }>(again).header.revision).toBe(43n);
      expect(await target.get("dedup")).toEqual([["dedup", "1"]]);
    });

    it("refuses a snapshot for another index, or a corrupt one, with CorruptState", async () => {
      const source = await fresh();
      await source.put("a", "1");
      const chunks: Uint8Array[] = [];
      for await (const chunk of source.store.snapshot()) chunks.push(chunk);
      const target = await fresh();
      await target.put("keep", "me");
      await expect(target.store.restore({ index: 99 }, toAsync(chunks))).rejects.toMatchObject({
        code: "CORRUPT_STATE",
      });
      const flipped = Uint8Array.from(Buffer.concat(chunks));
      flipped[flipped.length - 6]! ^= 0x01;
      await expect(target.store.restore({ index: 1 }, toAsync([flipped]))).rejects.toMatchObject({
        code: "CORRUPT_STATE",
      });
      // Both were refused before anything was written: the store carries on.
      expect(await target.get("keep")).toEqual([["keep", "me"]]);
      await target.put("x", "y");
    });

    it("keeps the old state when a snapshot turns out corrupt after part of it was written", async () => {
      const source = await fresh();
      await source.applyAll(
        Array.from({ length: 5000 }, (_, i) => ({
          request: { case: "put" as const, value: { key: enc(`k${i}`), value: enc("v") } },
        })),
      );
      const whole = Uint8Array.from(Buffer.concat(await collectChunks(source.store.snapshot())));
      whole[whole.length - 6]! ^= 0x01;
      const target = await fresh();
      await target.put("old", "state");
      await expect(target.store.restore({ index: 5000 }, toAsync([whole]))).rejects.toMatchObject({
        code: "CORRUPT_STATE",
      });
      expect(await target.get("old")).toEqual([["old", "state"]]);
      await target.put("still", "works");
      // The spare slot holds the partial restore until the next open or restore removes it.
      const reopened = await target.reopen(factory.reopen);
      backends.push(reopened.backend);
      expect(reopened.store.appliedIndex()).toBe(2);
      expect(await reopened.get("\u0000", "\u0000")).toEqual([
        ["old", "state"],
        ["still", "works"],
      ]);
      expect((await rawBackend(reopened.backend)).every((e) => e.startsWith("0"))).toBe(true);
    });

    it("switches to a restored state atomically: a failure at the switch leaves the old state", async () => {
      const source = await fresh();
      for (let i = 0; i < 10; i++) await source.put(`new${i}`, "v");
      const chunks = await collectChunks(source.store.snapshot());
      const backend = await factory.create();
      backends.push(backend);
      let failSwitch = true;
      const flaky: MvccBackend = Object.create(backend, {
        write: {
          value: async (batch: Parameters<MvccBackend["write"]>[0]) => {
            if (failSwitch && batch.appliedIndex === 10) throw new Error("power cut");
            return backend.write(batch);
          },
        },
      });
      const h = await Harness.open(flaky);
      await h.put("old", "state");
      await expect(h.store.restore({ index: 10 }, toAsync(chunks))).rejects.toBeInstanceOf(
        StoreFailedError,
      );
      failSwitch = false;
      const reopened = await Harness.open(backend);
      expect(reopened.store.appliedIndex()).toBe(1);
      expect(await reopened.get("\u0000", "\u0000")).toEqual([["old", "state"]]);
      await reopened.store.restore({ index: 10 }, toAsync(chunks));
      expect(await reopened.dump()).toEqual(await source.dump());
      expect(reopened.store.appliedIndex()).toBe(10);
      // A second restore switches back to the first slot.
      const again = await collectChunks(source.store.snapshot());
      const other = await fresh();
      await other.store.restore({ index: 10 }, toAsync(again));
      await other.store.restore({ index: 10 }, toAsync(again));
      expect(await other.dump()).toEqual(await source.dump());
    });

    it("serves reads during a restore from the old state, then from the new one, never a mix", async () => {
      const source = await fresh();
      await source.applyAll(
        Array.from({ length: 3000 }, (_, i) => ({
          request: { case: "put" as const, value: { key: enc(`new${i}`), value: enc("v") } },
        })),
      );
      const chunks = await collectChunks(source.store.snapshot());
      // No cache: every read fetches from the backend while the restore writes to it.
      const target = await fresh({ valueCacheBytes: 0 });
      await target.put("old", "state");
      // In the backend, not only in memory: the reads below must fetch (and so wait for
      // I/O, letting the restore run) rather than loop on microtasks.
      await target.store.flush();
      let done = false;
      const restoring = target.store.restore({ index: 3000 }, toAsync(chunks)).finally(() => {
        done = true;
      });
      const seen = new Set<number>();
      const readAll = async () => {
        const response = await target.range({
          key: Uint8Array.of(0),
          rangeEnd: Uint8Array.of(0),
          limit: 5n,
        });
        expect(response.kvs.length).toBe(Math.min(5, Number(response.count)));
        seen.add(Number(response.count));
      };
      while (!done) await readAll();
      await restoring;
      await readAll();
      expect([...seen].every((n) => n === 1 || n === 3000)).toBe(true);
      expect(seen.has(3000)).toBe(true);
    });

    it("hashes a revision the same on replicas and differently once the state differs", async () => {
      const [x, y] = [await fresh(), await fresh()];
      for (const h of [x, y]) {
        await h.put("a", "1");
        await h.put("b", "2");
      }
      expect(await x.store.hashKV(2)).toEqual(await y.store.hashKV(2));
      await x.put("c", "3");
      await y.put("c", "4");
      expect((await x.store.hashKV(3)).hash).toBe((await y.store.hashKV(3)).hash);
      expect((await x.store.hashKV()).hash).not.toBe((await y.store.hashKV()).hash);
      await expect(x.store.hashKV(9)).rejects.toBeInstanceOf(FutureRevisionError);
      await x.compactOk(3);
      await expect(x.store.hashKV(3)).rejects.toBeInstanceOf(CompactedError);
    });

    it("keeps a range that started before a write consistent with its revision", async () => {
      const h = await fresh({ valueCacheBytes: 0 });
      for (let i = 0; i < 20; i++) await h.put(`k${String(i).padStart(2, "0")}`, "old");
      const reading = h.get("k", "l");
      const writing = h.applyAll([
        { request: { case: "deleteRange", value: { key: enc("k"), rangeEnd: enc("l") } } },
        { request: { case: "compaction", value: { revision: 22n } } },
      ]);
      const [read] = await Promise.all([reading, writing]);
      expect(read).toHaveLength(20);
      expect(read.every(([, v]) => v === "old")).toBe(true);
      expect(await h.get("k", "l")).toEqual([]);
    });

    it("refuses everything after a failed backend write, and recovers on reopen", async () => {
      const backend = await factory.create();
      backends.push(backend);
      let failNext = false;
      const flaky: MvccBackend = Object.create(backend, {
        write: {
          value: async (batch: Parameters<MvccBackend["write"]>[0]) => {
            if (failNext) throw new Error("disk full");
            return backend.write(batch);
          },
        },
      });
      const h = await Harness.open(flaky);
      await h.put("a", "1");
      await h.store.flush();
      failNext = true;
      // Applied in memory; its backend write comes later and fails.
      await h.put("a", "2");
      const error = await h.store.flush().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreFailedError);
      expect((error as Error).cause).toMatchObject({ message: "disk full" });
      await expect(h.range({ key: enc("a") })).rejects.toBeInstanceOf(StoreFailedError);
      await expect(h.put("a", "3")).rejects.toBeInstanceOf(StoreFailedError);
      await expect(h.store.hashKV()).rejects.toBeInstanceOf(StoreFailedError);
      // The failure was reported already: close does not report it again.
      await h.store.close();
      failNext = false;
      const reopened = await Harness.open(backend);
      expect(reopened.store.appliedIndex()).toBe(1);
      expect(await reopened.get("a")).toEqual([["a", "1"]]);
    });

    it("refuses calls after close", async () => {
      const h = await fresh();
      await h.store.close();
      await expect(h.range({ key: enc("a") })).rejects.toBeInstanceOf(StoreClosedError);
      await expect(h.put("a", "1")).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
});

async function collectChunks(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function* toAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

describe("request-id window", () => {
  it(`forgets an id after ${REQUEST_ID_WINDOW} newer ones, so only then is it applied again`, async () => {
    const h = await Harness.open(createMemoryBackend());
    const put = (id: bigint) => ({
      id,
      request: { case: "put" as const, value: { key: enc("k"), value: enc("v") } },
    });
    await h.apply(put(1n));
    for (let next = 2; next <= REQUEST_ID_WINDOW; next += 4096) {
      const last = Math.min(REQUEST_ID_WINDOW, next + 4095);
      await h.applyAll(Array.from({ length: last - next + 1 }, (_, i) => put(BigInt(next + i))));
    }
    const revision = h.store.currentRevision();
    expect(ok<{ header: { revision: bigint } }>(await h.apply(put(1n))).header.revision).toBe(2n);
    expect(h.store.currentRevision()).toBe(revision);
    await h.apply(put(BigInt(REQUEST_ID_WINDOW + 1)));
    expect(ok<{ header: { revision: bigint } }>(await h.apply(put(1n))).header.revision).toBe(
      BigInt(revision + 2),
    );
  }, 300_000);

  it("answers the repeat of a request whose result was too large to keep with DUPLICATE_REQUEST", async () => {
    const h = await Harness.open(createMemoryBackend());
    const big = new Uint8Array(MAX_REMEMBERED_RESULT_BYTES);
    await h.apply({ request: { case: "put", value: { key: enc("big"), value: big } } });
    await h.put("other", "y");
    // Its answer carries the big previous value, so it is too large to remember.
    const request = {
      id: 5n,
      request: {
        case: "put" as const,
        value: { key: enc("big"), value: enc("small"), prevKv: true },
      },
    };
    await h.apply(request);
    const again = await h.apply(request);
    expect(again).toBeInstanceOf(DuplicateRequestError);
    expect(again).toMatchObject({ code: "DUPLICATE_REQUEST", grpcStatus: 9 });
    expect(h.store.currentRevision()).toBe(4);
  });
});

describe("metrics", () => {
  it("reports revisions, keys, cache bytes and applied entries in the given registry", async () => {
    const registry = new Registry();
    const h = await Harness.open(createMemoryBackend(), { registry });
    await h.put("a", "1");
    await h.put("b", "2");
    await h.compactOk(2);
    await h.get("a");
    const text = await registry.metrics();
    expect(text).toContain("raftkv_mvcc_current_revision 3");
    expect(text).toContain("raftkv_mvcc_compacted_revision 2");
    expect(text).toContain("raftkv_mvcc_keys 2");
    expect(text).toContain("raftkv_mvcc_applied_entries_total 3");
    expect(text).toContain("raftkv_mvcc_ranges_total 1");
    expect(text).toMatch(/raftkv_mvcc_value_cache_bytes [1-9]/);
    expect(text).toContain("raftkv_mvcc_apply_batch_seconds_count 3");
  });
});

describe("openMvccStore", () => {
  it("refuses a backend holding data it cannot read, with CorruptState", async () => {
    const backend = createMemoryBackend();
    await backend.write({
      operations: [{ type: "put", key: Uint8Array.of(0x07), value: Uint8Array.of(1) }],
    });
    await expect(Harness.open(backend)).rejects.toMatchObject({ code: "CORRUPT_STATE" });
  });
});
