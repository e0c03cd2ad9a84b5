import { Code } from "@connectrpc/connect";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase } from "./api-context.js";
import { currentRevision, headerOf, putAll, putKey, putOp, rangeOp, values } from "./kv-helpers.js";

const COMPACTED = {
  code: Code.OutOfRange,
  message: "etcdserver: mvcc: required revision has been compacted",
};
const FUTURE = {
  code: Code.OutOfRange,
  message: "etcdserver: mvcc: required revision is a future revision",
};
const KVSTORE = "mvcc/kvstore.go (store.updateCompactRev, store.compact)";

/**
 * KV.Compact and what it does to reads of old revisions. These cases compact the whole
 * store up to the current revision: run the suite against a server whose history you
 * do not need.
 */
export const kvCompactionCases: readonly ApiCase[] = [
  {
    name: "kv.compact.old-revisions",
    feature: "kv",
    behaviour:
      'After a compaction at revision r, reads below r fail with OUT_OF_RANGE "etcdserver: mvcc: required revision has been compacted"; r itself and later stay readable with the values of then.',
    reference: KVSTORE,
    async run(ctx) {
      const [r1, r2] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      await putKey(ctx, ctx.key("a"), "3");
      const response = await ctx.client.kv.compact({ revision: r2! });
      check(headerOf(response, "compact").revision >= r2!, "compact header revision below r");
      await expectStatus(
        ctx.client.kv.range({ key: ctx.key("a"), revision: r1! }),
        COMPACTED,
        "range below the compaction revision",
      );
      const atR = await ctx.client.kv.range({ key: ctx.key("a"), revision: r2! });
      expectEqual(values(atR.kvs), ["2"], "value at the compaction revision");
      const latest = await ctx.client.kv.range({ key: ctx.key("a") });
      expectEqual(values(latest.kvs), ["3"], "latest value");
      expectEqual(latest.kvs[0]?.version, 3n, "version survives compaction");
      expectEqual(latest.kvs[0]?.createRevision, r1, "create_revision survives compaction");
    },
  },
  {
    name: "kv.compact.physical",
    feature: "kv",
    behaviour:
      "A physical compaction answers once the compaction is applied; reads below it then fail as compacted.",
    reference: "etcdserver/v3_server.go (Compact: physical waits for the compaction to finish)",
    async run(ctx) {
      const [r1] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      const now = await currentRevision(ctx);
      await ctx.client.kv.compact({ revision: now, physical: true });
      await expectStatus(
        ctx.client.kv.range({ key: ctx.key("a"), revision: r1! }),
        COMPACTED,
        "range below a physical compaction",
      );
    },
  },
  {
    name: "kv.compact.already-compacted",
    feature: "kv",
    behaviour:
      'Compacting at or below the last compaction revision fails with OUT_OF_RANGE "etcdserver: mvcc: required revision has been compacted".',
    reference: KVSTORE,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      const now = await currentRevision(ctx);
      await ctx.client.kv.compact({ revision: now });
      await expectStatus(ctx.client.kv.compact({ revision: now }), COMPACTED, "compact again at r");
      await expectStatus(
        ctx.client.kv.compact({ revision: now - 1n }),
        COMPACTED,
        "compact below r",
      );
    },
  },
  {
    name: "kv.compact.future-revision",
    feature: "kv",
    behaviour:
      'Compacting above the current revision fails with OUT_OF_RANGE "etcdserver: mvcc: required revision is a future revision".',
    reference: KVSTORE,
    async run(ctx) {
      const now = await currentRevision(ctx);
      await expectStatus(
        ctx.client.kv.compact({ revision: now + 1000n }),
        FUTURE,
        "compact at a future revision",
      );
    },
  },
  {
    name: "kv.compact.txn-range-below",
    feature: "kv",
    behaviour:
      "A range inside a txn below the compaction revision fails the whole txn as compacted, and the txn's writes do not happen.",
    reference: "etcdserver/apply.go (checkRequestRange)",
    async run(ctx) {
      const [r1] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      await ctx.client.kv.compact({ revision: await currentRevision(ctx) });
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            putOp({ key: ctx.key("b"), value: new Uint8Array([1]) }),
            rangeOp({ key: ctx.key("a"), revision: r1! }),
          ],
        }),
        COMPACTED,
        "txn with a range below the compaction revision",
      );
      expectEqual((await ctx.client.kv.range({ key: ctx.key("b") })).kvs.length, 0, "b written");
    },
  },
  {
    name: "kv.compact.deleted-keys",
    feature: "kv",
    behaviour:
      "Compaction keeps the state at its revision: a key deleted before it is gone at every readable revision, a key alive at it is still readable at it.",
    reference: "mvcc/key_index.go (keyIndex.compact)",
    async run(ctx) {
      await putAll(ctx, [
        ["gone", "1"],
        ["kept", "1"],
      ]);
      await ctx.client.kv.deleteRange({ key: ctx.key("gone") });
      const at = await currentRevision(ctx);
      await putKey(ctx, ctx.key("kept"), "2");
      await ctx.client.kv.compact({ revision: at });
      const gone = await ctx.client.kv.range({ key: ctx.key("gone"), revision: at });
      expectEqual(gone.kvs.length, 0, "deleted key at the compaction revision");
      const kept = await ctx.client.kv.range({ key: ctx.key("kept"), revision: at });
      expectEqual(values(kept.kvs), ["1"], "live key at the compaction revision");
    },
  },
];
