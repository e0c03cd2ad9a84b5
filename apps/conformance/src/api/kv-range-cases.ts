import { Code } from "@connectrpc/connect";
import { RangeRequest_SortOrder, RangeRequest_SortTarget } from "@raftkv/proto/etcd";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase } from "./api-context.js";
import {
  bytes,
  currentRevision,
  fromKey,
  headerOf,
  names,
  prefixEnd,
  putAll,
  putKey,
  rangeAll,
  values,
} from "./kv-helpers.js";

const APPLY = "etcdserver/apply.go (applierV3backend.Range)";
const MVCC = "mvcc/kvstore_txn.go (storeTxnRead.rangeKeys)";

/** KV.Range: every option of RangeRequest. */
export const kvRangeCases: readonly ApiCase[] = [
  {
    name: "kv.range.single-key",
    feature: "kv",
    behaviour:
      "A range with only key returns that key with its value, create_revision = mod_revision = the put's revision, version 1, lease 0; count 1, more false.",
    reference: APPLY,
    async run(ctx) {
      const revision = await putKey(ctx, ctx.key("a"), "1");
      const response = await ctx.client.kv.range({ key: ctx.key("a") });
      expectEqual(response.kvs.length, 1, "kvs");
      const kv = response.kvs[0]!;
      expectEqual(kv.key, ctx.key("a"), "key");
      expectEqual(kv.value, bytes("1"), "value");
      expectEqual(kv.createRevision, revision, "create_revision");
      expectEqual(kv.modRevision, revision, "mod_revision");
      expectEqual(kv.version, 1n, "version");
      expectEqual(kv.lease, 0n, "lease");
      expectEqual(response.count, 1n, "count");
      expectEqual(response.more, false, "more");
      check(headerOf(response, "range").revision >= revision, "header revision below the put's");
    },
  },
  {
    name: "kv.range.missing-key",
    feature: "kv",
    behaviour:
      "A range over a key that does not exist succeeds with no kvs, count 0, and the header carries the store's current revision.",
    reference: APPLY,
    async run(ctx) {
      const revision = await putKey(ctx, ctx.key("other"), "x");
      const response = await ctx.client.kv.range({ key: ctx.key("missing") });
      expectEqual(response.kvs.length, 0, "kvs");
      expectEqual(response.count, 0n, "count");
      check(
        headerOf(response, "range").revision >= revision,
        "header revision below the last put's",
      );
    },
  },
  {
    name: "kv.range.range-end",
    feature: "kv",
    behaviour:
      "range_end selects [key, range_end): the end is exclusive, and keys come back in ascending byte order.",
    reference: MVCC,
    async run(ctx) {
      await putAll(ctx, [
        ["c", "3"],
        ["a", "1"],
        ["b", "2"],
        ["d", "4"],
      ]);
      const response = await ctx.client.kv.range({ key: ctx.key("a"), rangeEnd: ctx.key("c") });
      expectEqual(names(ctx, response.kvs), ["a", "b"], "keys");
      expectEqual(response.count, 2n, "count");
    },
  },
  {
    name: "kv.range.range-end-before-key",
    feature: "kv",
    behaviour: "A range_end at or below key selects nothing (no error).",
    reference: MVCC,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
      ]);
      const response = await ctx.client.kv.range({ key: ctx.key("b"), rangeEnd: ctx.key("a") });
      expectEqual(response.kvs.length, 0, "kvs");
      expectEqual(response.count, 0n, "count");
    },
  },
  {
    name: "kv.range.prefix",
    feature: "kv",
    behaviour:
      "range_end = key with its last byte incremented selects every key with that prefix, and only those.",
    reference: "clientv3/op.go (WithPrefix, GetPrefixRangeEnd)",
    async run(ctx) {
      await putAll(ctx, [
        ["p/1", "1"],
        ["p/2", "2"],
        ["p", "0"],
        ["p0", "x"],
        ["q", "y"],
      ]);
      const prefix = ctx.key("p/");
      const response = await ctx.client.kv.range({ key: prefix, rangeEnd: prefixEnd(prefix) });
      expectEqual(names(ctx, response.kvs), ["p/1", "p/2"], "keys");
    },
  },
  {
    name: "kv.range.from-key",
    feature: "kv",
    behaviour: 'range_end "\\0" selects every key >= key.',
    reference: "etcdserver/apply.go (mkGteRange)",
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ]);
      const response = await ctx.client.kv.range({ key: ctx.key("b"), rangeEnd: fromKey });
      // Keys of other users may sort after ours; ours must come first, in order.
      expectEqual(names(ctx, response.kvs.slice(0, 2)), ["b", "c"], "first keys");
      check(
        !response.kvs.some((kv) => Buffer.compare(kv.key, ctx.key("b")) < 0),
        "a key below the start key was returned",
      );
    },
  },
  {
    name: "kv.range.limit",
    feature: "kv",
    behaviour:
      "limit returns at most that many keys (the first in key order); more is true when keys were left out and count is the number of keys in the whole range.",
    reference: APPLY,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["d", "4"],
        ["e", "5"],
      ]);
      const response = await rangeAll(ctx, { limit: 2n });
      expectEqual(names(ctx, response.kvs), ["a", "b"], "keys");
      expectEqual(response.more, true, "more");
      expectEqual(response.count, 5n, "count");
      const exact = await rangeAll(ctx, { limit: 5n });
      expectEqual(exact.kvs.length, 5, "kvs with limit = number of keys");
      expectEqual(exact.more, false, "more with limit = number of keys");
      const zero = await rangeAll(ctx, { limit: 0n });
      expectEqual(zero.kvs.length, 5, "kvs with limit 0 (no limit)");
    },
  },
  {
    name: "kv.range.revision",
    feature: "kv",
    behaviour:
      "revision reads the store as it was at that revision: values, versions and deleted keys as of then; the header still carries the current revision.",
    reference: MVCC,
    async run(ctx) {
      const [r1] = await putAll(ctx, [["k", "v1"]]);
      const r2 = await putKey(ctx, ctx.key("k"), "v2");
      await ctx.client.kv.deleteRange({ key: ctx.key("k") });
      const now = await currentRevision(ctx);
      const at1 = await ctx.client.kv.range({ key: ctx.key("k"), revision: r1! });
      expectEqual(values(at1.kvs), ["v1"], "value at the first put's revision");
      expectEqual(at1.kvs[0]?.version, 1n, "version at the first put's revision");
      const at2 = await ctx.client.kv.range({ key: ctx.key("k"), revision: r2 });
      expectEqual(values(at2.kvs), ["v2"], "value at the second put's revision");
      expectEqual(at2.kvs[0]?.version, 2n, "version at the second put's revision");
      check(headerOf(at2, "range").revision >= now, "header revision is not the current one");
      const latest = await ctx.client.kv.range({ key: ctx.key("k") });
      expectEqual(latest.kvs.length, 0, "kvs after the delete");
      const before = await ctx.client.kv.range({ key: ctx.key("k"), revision: r1! - 1n });
      expectEqual(before.kvs.length, 0, "kvs before the first put");
    },
  },
  {
    name: "kv.range.future-revision",
    feature: "kv",
    behaviour:
      'A range at a revision above the current one fails with OUT_OF_RANGE "etcdserver: mvcc: required revision is a future revision".',
    reference: "etcdserver/api/v3rpc/rpctypes/error.go (ErrGRPCFutureRev)",
    async run(ctx) {
      const now = await currentRevision(ctx);
      await expectStatus(
        ctx.client.kv.range({ key: ctx.key("k"), revision: now + 1000n }),
        {
          code: Code.OutOfRange,
          message: "etcdserver: mvcc: required revision is a future revision",
        },
        "range at a future revision",
      );
    },
  },
  {
    name: "kv.range.sort",
    feature: "kv",
    behaviour:
      "sort_order ASCEND/DESCEND with sort_target KEY, VERSION, CREATE, MOD or VALUE orders the result by that field.",
    reference: APPLY,
    async run(ctx) {
      // Written so that key, create, mod, version and value orders all differ.
      await putAll(ctx, [
        ["b", "z"],
        ["c", "x"],
        ["a", "y"],
        ["c", "x2"],
        ["b", "z2"],
        ["b", "z3"],
      ]);
      // a: create 3rd, mod 3rd, version 1, value y
      // b: create 1st, mod 6th, version 3, value z3
      // c: create 2nd, mod 4th, version 2, value x2
      const sorted = async (target: RangeRequest_SortTarget, order: RangeRequest_SortOrder) =>
        names(ctx, (await rangeAll(ctx, { sortTarget: target, sortOrder: order })).kvs);
      const { ASCEND, DESCEND } = RangeRequest_SortOrder;
      expectEqual(
        await sorted(RangeRequest_SortTarget.KEY, DESCEND),
        ["c", "b", "a"],
        "KEY DESCEND",
      );
      expectEqual(await sorted(RangeRequest_SortTarget.KEY, ASCEND), ["a", "b", "c"], "KEY ASCEND");
      expectEqual(
        await sorted(RangeRequest_SortTarget.CREATE, ASCEND),
        ["b", "c", "a"],
        "CREATE ASCEND",
      );
      expectEqual(
        await sorted(RangeRequest_SortTarget.MOD, DESCEND),
        ["b", "c", "a"],
        "MOD DESCEND",
      );
      expectEqual(await sorted(RangeRequest_SortTarget.MOD, ASCEND), ["a", "c", "b"], "MOD ASCEND");
      expectEqual(
        await sorted(RangeRequest_SortTarget.VERSION, ASCEND),
        ["a", "c", "b"],
        "VERSION ASCEND",
      );
      expectEqual(
        await sorted(RangeRequest_SortTarget.VALUE, ASCEND),
        ["c", "a", "b"],
        "VALUE ASCEND",
      );
      expectEqual(
        await sorted(RangeRequest_SortTarget.VALUE, DESCEND),
        ["b", "a", "c"],
        "VALUE DESCEND",
      );
    },
  },
  {
    name: "kv.range.sort-target-without-order",
    feature: "kv",
    behaviour:
      "A sort_target other than KEY with sort_order NONE sorts ascending by that target (etcd defaults the order to ASCEND).",
    reference: APPLY,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "3"],
        ["b", "1"],
        ["c", "2"],
      ]);
      const response = await rangeAll(ctx, {
        sortTarget: RangeRequest_SortTarget.VALUE,
        sortOrder: RangeRequest_SortOrder.NONE,
      });
      expectEqual(names(ctx, response.kvs), ["b", "c", "a"], "keys");
    },
  },
  {
    name: "kv.range.sort-then-limit",
    feature: "kv",
    behaviour:
      "With a sort and a limit, the whole range is sorted first and then cut: DESCEND with limit 2 returns the two largest; more is true.",
    reference: APPLY,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["d", "4"],
      ]);
      const response = await rangeAll(ctx, {
        sortTarget: RangeRequest_SortTarget.KEY,
        sortOrder: RangeRequest_SortOrder.DESCEND,
        limit: 2n,
      });
      expectEqual(names(ctx, response.kvs), ["d", "c"], "keys");
      expectEqual(response.more, true, "more");
      expectEqual(response.count, 4n, "count");
    },
  },
  {
    name: "kv.range.keys-only",
    feature: "kv",
    behaviour:
      "keys_only returns the keys with empty values; revisions, versions and leases are still filled in.",
    reference: APPLY,
    async run(ctx) {
      const [r1] = await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
      ]);
      const response = await rangeAll(ctx, { keysOnly: true });
      expectEqual(names(ctx, response.kvs), ["a", "b"], "keys");
      expectEqual(values(response.kvs), ["", ""], "values");
      expectEqual(response.kvs[0]?.createRevision, r1, "create_revision of a");
      expectEqual(response.kvs[0]?.version, 1n, "version of a");
    },
  },
  {
    name: "kv.range.count-only",
    feature: "kv",
    behaviour: "count_only returns no kvs, only the count of keys in the range.",
    reference: APPLY,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ]);
      const response = await rangeAll(ctx, { countOnly: true });
      expectEqual(response.kvs.length, 0, "kvs");
      expectEqual(response.count, 3n, "count");
      const limited = await rangeAll(ctx, { countOnly: true, limit: 1n });
      expectEqual(limited.count, 3n, "count with a limit");
    },
  },
  {
    name: "kv.range.mod-revision-filters",
    feature: "kv",
    behaviour:
      "min_mod_revision and max_mod_revision keep only keys whose mod_revision lies within the bounds (inclusive; 0 means no bound).",
    reference: APPLY,
    async run(ctx) {
      const [ra, rb, rc] = await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ]);
      expectEqual(
        names(ctx, (await rangeAll(ctx, { minModRevision: rb! })).kvs),
        ["b", "c"],
        "min_mod_revision",
      );
      expectEqual(
        names(ctx, (await rangeAll(ctx, { maxModRevision: rb! })).kvs),
        ["a", "b"],
        "max_mod_revision",
      );
      expectEqual(
        names(ctx, (await rangeAll(ctx, { minModRevision: rb!, maxModRevision: rb! })).kvs),
        ["b"],
        "both bounds",
      );
      check(ra! < rb! && rb! < rc!, "puts did not get increasing revisions");
    },
  },
  {
    name: "kv.range.create-revision-filters",
    feature: "kv",
    behaviour:
      "min_create_revision and max_create_revision keep only keys whose create_revision lies within the bounds; an update does not change create_revision.",
    reference: APPLY,
    async run(ctx) {
      const [, rb] = await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["a", "1b"],
      ]);
      expectEqual(
        names(ctx, (await rangeAll(ctx, { minCreateRevision: rb! })).kvs),
        ["b", "c"],
        "min_create_revision",
      );
      expectEqual(
        names(ctx, (await rangeAll(ctx, { maxCreateRevision: rb! })).kvs),
        ["a", "b"],
        "max_create_revision",
      );
    },
  },
  {
    name: "kv.range.serializable",
    feature: "kv",
    behaviour:
      "A serializable range is answered from the member's local state; it sees a write once the member has applied it, and returns the same fields as a linearizable range.",
    reference: "etcdserver/v3_server.go (Range: Serializable skips linearizableReadNotify)",
    async run(ctx) {
      const revision = await putKey(ctx, ctx.key("a"), "1");
      for (const client of ctx.clients) {
        // A follower may apply the write a moment later; wait for it, bounded.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const response = await client.kv.range({ key: ctx.key("a"), serializable: true });
          if (response.kvs.length === 1) {
            expectEqual(values(response.kvs), ["1"], `value on ${client.endpoint}`);
            expectEqual(
              response.kvs[0]?.modRevision,
              revision,
              `mod_revision on ${client.endpoint}`,
            );
            break;
          }
          check(Date.now() < deadline, `${client.endpoint} did not apply the write within 10 s`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
  },
  {
    name: "kv.range.linearizable-on-every-member",
    feature: "kv",
    behaviour:
      "A linearizable range (the default) on any member sees every write acknowledged before it started, whichever member took the write.",
    reference: "etcdserver/v3_server.go (linearizableReadNotify)",
    async run(ctx) {
      for (const [i, client] of ctx.clients.entries()) {
        const put = await client.kv.put({ key: ctx.key("a"), value: bytes(`v${i}`) });
        const revision = headerOf(put, `put on ${client.endpoint}`).revision;
        for (const reader of ctx.clients) {
          const response = await reader.kv.range({ key: ctx.key("a") });
          expectEqual(values(response.kvs), [`v${i}`], `value read on ${reader.endpoint}`);
          check(
            headerOf(response, "range").revision >= revision,
            `${reader.endpoint} answered at a revision below an acknowledged write`,
          );
        }
      }
    },
  },
  {
    name: "kv.range.empty-key",
    feature: "kv",
    behaviour:
      'A range with an empty key fails with INVALID_ARGUMENT "etcdserver: key is not provided".',
    reference: "etcdserver/api/v3rpc/key.go (checkRangeRequest)",
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.range({ key: new Uint8Array(0) }),
        { code: Code.InvalidArgument, message: "etcdserver: key is not provided" },
        "range with an empty key",
      );
    },
  },
  {
    name: "kv.range.binary-keys",
    feature: "kv",
    behaviour:
      "Keys and values are arbitrary bytes (including 0x00 and 0xff) and sort bytewise, not as text.",
    reference: "mvcc/index.go (keys ordered by bytes.Compare)",
    async run(ctx) {
      const low = new Uint8Array([...ctx.prefix, 0x00, 0x01]);
      const high = new Uint8Array([...ctx.prefix, 0xff, 0xfe]);
      const mid = new Uint8Array([...ctx.prefix, 0x7f]);
      const value = new Uint8Array([0, 255, 1, 254]);
      for (const key of [high, low, mid]) await putKey(ctx, key, value);
      const response = await rangeAll(ctx);
      expectEqual(
        response.kvs.map((kv) => kv.key),
        [low, mid, high],
        "keys in byte order",
      );
      expectEqual(response.kvs[0]?.value, value, "value bytes");
    },
  },
];
