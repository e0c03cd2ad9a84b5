import { Code } from "@connectrpc/connect";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase } from "./api-context.js";
import {
  bytes,
  currentRevision,
  headerOf,
  names,
  prefixEnd,
  putAll,
  putKey,
  rangeAll,
  values,
} from "./kv-helpers.js";

const PUT = "etcdserver/apply.go (applierV3backend.Put)";
const DELETE = "etcdserver/apply.go (applierV3backend.DeleteRange)";
const CHECK = "etcdserver/api/v3rpc/key.go (checkPutRequest, checkDeleteRequest)";

/** KV.Put and KV.DeleteRange: their options, revisions and versions, and their errors. */
export const kvPutDeleteCases: readonly ApiCase[] = [
  {
    name: "kv.put.create",
    feature: "kv",
    behaviour:
      "A put of a new key advances the store revision by exactly one; the key gets create_revision = mod_revision = that revision and version 1.",
    reference: PUT,
    async run(ctx) {
      const before = await currentRevision(ctx);
      const response = await ctx.client.kv.put({ key: ctx.key("a"), value: bytes("1") });
      const revision = headerOf(response, "put").revision;
      // Other clients may write too, but on a server used only by this suite the put is
      // the only change; accept a larger jump only if someone else wrote.
      check(revision > before, `put revision ${revision} is not above ${before}`);
      const kv = (await ctx.client.kv.range({ key: ctx.key("a") })).kvs[0];
      expectEqual(kv?.createRevision, revision, "create_revision");
      expectEqual(kv?.modRevision, revision, "mod_revision");
      expectEqual(kv?.version, 1n, "version");
      expectEqual(response.prevKv, undefined, "prev_kv (not asked for)");
    },
  },
  {
    name: "kv.put.revision-increments-by-one",
    feature: "kv",
    behaviour:
      "Each put is one revision: consecutive puts by one client get consecutive revisions when no one else writes.",
    reference: "mvcc/kvstore_txn.go (storeTxnWrite.End: one revision per write txn)",
    async run(ctx) {
      const revisions = await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["a", "3"],
      ]);
      expectEqual(
        revisions.map((r) => r - revisions[0]!),
        [0n, 1n, 2n],
        "revision steps (run the suite on a server no one else writes to)",
      );
    },
  },
  {
    name: "kv.put.update",
    feature: "kv",
    behaviour:
      "A put of an existing key keeps its create_revision, sets mod_revision to the new revision and increments version.",
    reference: PUT,
    async run(ctx) {
      const [r1, r2, r3] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
        ["a", "3"],
      ]);
      const kv = (await ctx.client.kv.range({ key: ctx.key("a") })).kvs[0];
      expectEqual(kv?.createRevision, r1, "create_revision");
      expectEqual(kv?.modRevision, r3, "mod_revision");
      expectEqual(kv?.version, 3n, "version");
      expectEqual(values(kv ? [kv] : []), ["3"], "value");
      check(r1! < r2! && r2! < r3!, "revisions do not increase");
    },
  },
  {
    name: "kv.put.prev-kv",
    feature: "kv",
    behaviour:
      "prev_kv returns the key as it was before the put (value, revisions, version); nothing when the key did not exist.",
    reference: PUT,
    async run(ctx) {
      const created = await ctx.client.kv.put({
        key: ctx.key("a"),
        value: bytes("1"),
        prevKv: true,
      });
      expectEqual(created.prevKv, undefined, "prev_kv of a new key");
      const r1 = headerOf(created, "put").revision;
      const updated = await ctx.client.kv.put({
        key: ctx.key("a"),
        value: bytes("2"),
        prevKv: true,
      });
      expectEqual(updated.prevKv?.value, bytes("1"), "prev_kv value");
      expectEqual(updated.prevKv?.modRevision, r1, "prev_kv mod_revision");
      expectEqual(updated.prevKv?.createRevision, r1, "prev_kv create_revision");
      expectEqual(updated.prevKv?.version, 1n, "prev_kv version");
    },
  },
  {
    name: "kv.put.ignore-value",
    feature: "kv",
    behaviour:
      "ignore_value keeps the current value (the put still counts: new mod_revision, version + 1).",
    reference: PUT,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "keep");
      const response = await ctx.client.kv.put({ key: ctx.key("a"), ignoreValue: true });
      const kv = (await ctx.client.kv.range({ key: ctx.key("a") })).kvs[0];
      expectEqual(kv?.value, bytes("keep"), "value");
      expectEqual(kv?.version, 2n, "version");
      expectEqual(kv?.modRevision, headerOf(response, "put").revision, "mod_revision");
    },
  },
  {
    name: "kv.put.ignore-value-missing-key",
    feature: "kv",
    behaviour:
      'ignore_value on a key that does not exist fails with INVALID_ARGUMENT "etcdserver: key not found" and writes nothing.',
    reference: PUT,
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("missing"), ignoreValue: true }),
        { code: Code.InvalidArgument, message: "etcdserver: key not found" },
        "put with ignore_value of a missing key",
      );
      expectEqual((await ctx.client.kv.range({ key: ctx.key("missing") })).kvs.length, 0, "kvs");
    },
  },
  {
    name: "kv.put.ignore-value-with-value",
    feature: "kv",
    behaviour:
      'ignore_value together with a non-empty value fails with INVALID_ARGUMENT "etcdserver: value is provided".',
    reference: CHECK,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("a"), value: bytes("2"), ignoreValue: true }),
        { code: Code.InvalidArgument, message: "etcdserver: value is provided" },
        "put with ignore_value and a value",
      );
    },
  },
  {
    name: "kv.put.ignore-lease-with-lease",
    feature: "kv",
    behaviour:
      'ignore_lease together with a lease fails with INVALID_ARGUMENT "etcdserver: lease is provided".',
    reference: CHECK,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("a"), value: bytes("2"), ignoreLease: true, lease: 42n }),
        { code: Code.InvalidArgument, message: "etcdserver: lease is provided" },
        "put with ignore_lease and a lease",
      );
    },
  },
  {
    name: "kv.put.ignore-lease-missing-key",
    feature: "kv",
    behaviour:
      'ignore_lease on a key that does not exist fails with INVALID_ARGUMENT "etcdserver: key not found".',
    reference: PUT,
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("missing"), value: bytes("1"), ignoreLease: true }),
        { code: Code.InvalidArgument, message: "etcdserver: key not found" },
        "put with ignore_lease of a missing key",
      );
    },
  },
  {
    name: "kv.put.empty-key",
    feature: "kv",
    behaviour:
      'A put with an empty key fails with INVALID_ARGUMENT "etcdserver: key is not provided".',
    reference: CHECK,
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.put({ key: new Uint8Array(0), value: bytes("1") }),
        { code: Code.InvalidArgument, message: "etcdserver: key is not provided" },
        "put with an empty key",
      );
    },
  },
  {
    name: "kv.put.empty-value",
    feature: "kv",
    behaviour: "An empty value is a value: the key exists with an empty value and version 1.",
    reference: PUT,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "");
      const response = await ctx.client.kv.range({ key: ctx.key("a") });
      expectEqual(response.count, 1n, "count");
      expectEqual(response.kvs[0]?.value, new Uint8Array(0), "value");
      expectEqual(response.kvs[0]?.version, 1n, "version");
    },
  },
  {
    name: "kv.delete.single-key",
    feature: "kv",
    behaviour:
      "Deleting one existing key returns deleted 1 at a new revision; the key is gone afterwards.",
    reference: DELETE,
    async run(ctx) {
      const put = await putKey(ctx, ctx.key("a"), "1");
      const response = await ctx.client.kv.deleteRange({ key: ctx.key("a") });
      expectEqual(response.deleted, 1n, "deleted");
      check(headerOf(response, "delete").revision > put, "delete did not advance the revision");
      expectEqual(
        (await ctx.client.kv.range({ key: ctx.key("a") })).kvs.length,
        0,
        "kvs afterwards",
      );
    },
  },
  {
    name: "kv.delete.missing-key",
    feature: "kv",
    behaviour:
      "Deleting a key that does not exist succeeds with deleted 0 and does not advance the revision.",
    reference: "mvcc/kvstore_txn.go (storeTxnWrite.End: no changes, no new revision)",
    async run(ctx) {
      const before = await currentRevision(ctx);
      const response = await ctx.client.kv.deleteRange({ key: ctx.key("missing") });
      expectEqual(response.deleted, 0n, "deleted");
      expectEqual(headerOf(response, "delete").revision, before, "revision (run the suite alone)");
    },
  },
  {
    name: "kv.delete.range",
    feature: "kv",
    behaviour:
      "Deleting [key, range_end) removes exactly the keys in the range, all at one revision.",
    reference: DELETE,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["d", "4"],
      ]);
      const response = await ctx.client.kv.deleteRange({
        key: ctx.key("b"),
        rangeEnd: ctx.key("d"),
        prevKv: true,
      });
      expectEqual(response.deleted, 2n, "deleted");
      const revision = headerOf(response, "delete").revision;
      expectEqual(names(ctx, (await rangeAll(ctx)).kvs), ["a", "d"], "keys left");
      const before = await rangeAll(ctx, { revision: revision - 1n });
      expectEqual(names(ctx, before.kvs), ["a", "b", "c", "d"], "keys one revision earlier");
    },
  },
  {
    name: "kv.delete.prefix",
    feature: "kv",
    behaviour:
      "DeleteRange reads range_end like Range: the prefix end of key deletes every key with that prefix and nothing else.",
    reference: "etcdserver/apply.go (mkGteRange)",
    async run(ctx) {
      // From-key deletes ("\0") are not exercised: on a shared server they would delete
      // other users' keys. They share mkGteRange with Range, which kv.range.from-key checks.
      await putAll(ctx, [
        ["p/1", "1"],
        ["p/2", "2"],
        ["p", "3"],
        ["q", "4"],
      ]);
      const prefix = ctx.key("p/");
      const response = await ctx.client.kv.deleteRange({
        key: prefix,
        rangeEnd: prefixEnd(prefix),
      });
      expectEqual(response.deleted, 2n, "deleted");
      expectEqual(names(ctx, (await rangeAll(ctx)).kvs), ["p", "q"], "keys left");
    },
  },
  {
    name: "kv.delete.prev-kv",
    feature: "kv",
    behaviour: "prev_kv returns every deleted key as it was before the delete, in key order.",
    reference: DELETE,
    async run(ctx) {
      await putAll(ctx, [
        ["b", "2"],
        ["a", "1"],
      ]);
      const response = await ctx.client.kv.deleteRange({
        key: ctx.prefix,
        rangeEnd: prefixEnd(ctx.prefix),
        prevKv: true,
      });
      expectEqual(names(ctx, response.prevKvs), ["a", "b"], "prev_kvs keys");
      expectEqual(values(response.prevKvs), ["1", "2"], "prev_kvs values");
      const without = await ctx.client.kv.deleteRange({ key: ctx.key("a") });
      expectEqual(without.prevKvs.length, 0, "prev_kvs when not asked for");
    },
  },
  {
    name: "kv.delete.recreate",
    feature: "kv",
    behaviour:
      "A key put again after a delete starts a new generation: version 1 and a new create_revision.",
    reference: "mvcc/key_index.go (tombstone starts a new generation)",
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      await ctx.client.kv.deleteRange({ key: ctx.key("a") });
      const revision = await putKey(ctx, ctx.key("a"), "3");
      const kv = (await ctx.client.kv.range({ key: ctx.key("a") })).kvs[0];
      expectEqual(kv?.version, 1n, "version");
      expectEqual(kv?.createRevision, revision, "create_revision");
    },
  },
  {
    name: "kv.delete.empty-key",
    feature: "kv",
    behaviour:
      'A delete with an empty key fails with INVALID_ARGUMENT "etcdserver: key is not provided".',
    reference: CHECK,
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.deleteRange({ key: new Uint8Array(0) }),
        { code: Code.InvalidArgument, message: "etcdserver: key is not provided" },
        "delete with an empty key",
      );
    },
  },
];
