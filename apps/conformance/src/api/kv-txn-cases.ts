import { Code } from "@connectrpc/connect";
import { Compare_CompareResult } from "@raftkv/proto/etcd";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase, ApiContext } from "./api-context.js";
import {
  bytes,
  compareNumber,
  compareValue,
  currentRevision,
  deleteOp,
  headerOf,
  names,
  putAll,
  putKey,
  putOp,
  rangeAll,
  rangeOp,
  responseAt,
  txnOp,
  values,
} from "./kv-helpers.js";

const APPLY_TXN = "etcdserver/apply.go (applierV3backend.Txn, applyCompare)";
const CHECK_TXN = "etcdserver/api/v3rpc/key.go (checkTxnRequest, checkIntervals)";
const { EQUAL, NOT_EQUAL, GREATER, LESS } = Compare_CompareResult;

type CompareInit = ReturnType<typeof compareValue>;

/** Runs a txn with only compares and reports whether it took the success branch. */
async function holds(ctx: ApiContext, compares: CompareInit[]): Promise<boolean> {
  const response = await ctx.client.kv.txn({ compare: compares });
  return response.succeeded;
}

async function expectCompares(
  ctx: ApiContext,
  cases: readonly (readonly [string, CompareInit, boolean])[],
): Promise<void> {
  for (const [label, compare, expected] of cases) {
    expectEqual(await holds(ctx, [compare]), expected, `compare ${label}`);
  }
}

/** KV.Txn: compares over keys and ranges, branches, nesting, atomicity and validation. */
export const kvTxnCases: readonly ApiCase[] = [
  {
    name: "kv.txn.compare-value",
    feature: "kv",
    behaviour:
      "A value compare checks the key's value bytewise with EQUAL, NOT_EQUAL, GREATER and LESS.",
    reference: APPLY_TXN,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "m");
      const a = ctx.key("a");
      await expectCompares(ctx, [
        ['value = "m"', compareValue(a, EQUAL, "m"), true],
        ['value = "n"', compareValue(a, EQUAL, "n"), false],
        ['value != "n"', compareValue(a, NOT_EQUAL, "n"), true],
        ['value != "m"', compareValue(a, NOT_EQUAL, "m"), false],
        ['value > "l"', compareValue(a, GREATER, "l"), true],
        ['value > "m"', compareValue(a, GREATER, "m"), false],
        ['value < "n"', compareValue(a, LESS, "n"), true],
        ['value < "ma"', compareValue(a, LESS, "ma"), true],
        ['value < "m"', compareValue(a, LESS, "m"), false],
      ]);
    },
  },
  {
    name: "kv.txn.compare-version",
    feature: "kv",
    behaviour: "A version compare checks the key's version (number of puts since creation).",
    reference: APPLY_TXN,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      const a = ctx.key("a");
      await expectCompares(ctx, [
        ["version = 2", compareNumber(a, "version", EQUAL, 2n), true],
        ["version = 1", compareNumber(a, "version", EQUAL, 1n), false],
        ["version > 1", compareNumber(a, "version", GREATER, 1n), true],
        ["version < 3", compareNumber(a, "version", LESS, 3n), true],
        ["version != 2", compareNumber(a, "version", NOT_EQUAL, 2n), false],
      ]);
    },
  },
  {
    name: "kv.txn.compare-create-and-mod-revision",
    feature: "kv",
    behaviour: "create_revision and mod_revision compares check the key's revisions.",
    reference: APPLY_TXN,
    async run(ctx) {
      const [created, modified] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      const a = ctx.key("a");
      await expectCompares(ctx, [
        ["create = created", compareNumber(a, "createRevision", EQUAL, created!), true],
        ["create = modified", compareNumber(a, "createRevision", EQUAL, modified!), false],
        ["create < modified", compareNumber(a, "createRevision", LESS, modified!), true],
        ["mod = modified", compareNumber(a, "modRevision", EQUAL, modified!), true],
        ["mod > created", compareNumber(a, "modRevision", GREATER, created!), true],
        ["mod != modified", compareNumber(a, "modRevision", NOT_EQUAL, modified!), false],
      ]);
    },
  },
  {
    name: "kv.txn.compare-lease",
    feature: "kv",
    behaviour: "A lease compare checks the key's lease id; a key without a lease has lease 0.",
    reference: APPLY_TXN,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      const a = ctx.key("a");
      await expectCompares(ctx, [
        ["lease = 0", compareNumber(a, "lease", EQUAL, 0n), true],
        ["lease != 0", compareNumber(a, "lease", NOT_EQUAL, 0n), false],
        ["lease < 1", compareNumber(a, "lease", LESS, 1n), true],
      ]);
    },
  },
  {
    name: "kv.txn.compare-missing-key",
    feature: "kv",
    behaviour:
      "A missing key compares as version, create_revision, mod_revision and lease 0, but every value compare on it is false, even NOT_EQUAL.",
    reference: "etcdserver/apply.go (applyCompare: value compares on missing keys always fail)",
    async run(ctx) {
      const m = ctx.key("missing");
      await expectCompares(ctx, [
        ["version = 0", compareNumber(m, "version", EQUAL, 0n), true],
        ["create = 0", compareNumber(m, "createRevision", EQUAL, 0n), true],
        ["mod < 1", compareNumber(m, "modRevision", LESS, 1n), true],
        ["lease = 0", compareNumber(m, "lease", EQUAL, 0n), true],
        ['value != "x"', compareValue(m, NOT_EQUAL, "x"), false],
        ['value = ""', compareValue(m, EQUAL, ""), false],
        ['value < "x"', compareValue(m, LESS, "x"), false],
      ]);
    },
  },
  {
    name: "kv.txn.compare-range",
    feature: "kv",
    behaviour:
      "A compare with range_end holds only if it holds for every key in [key, range_end); over a range with no keys it compares against a missing key.",
    reference: APPLY_TXN,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "1"],
        ["c", "2"],
      ]);
      const a = ctx.key("a");
      await expectCompares(ctx, [
        ['[a, c) value = "1"', compareValue(a, EQUAL, "1", ctx.key("c")), true],
        ['[a, d) value = "1"', compareValue(a, EQUAL, "1", ctx.key("d")), false],
        ["[a, d) version = 1", compareNumber(a, "version", EQUAL, 1n, ctx.key("d")), true],
        [
          "[x, z) version = 0",
          compareNumber(ctx.key("x"), "version", EQUAL, 0n, ctx.key("z")),
          true,
        ],
        ['[x, z) value != "1"', compareValue(ctx.key("x"), NOT_EQUAL, "1", ctx.key("z")), false],
      ]);
    },
  },
  {
    name: "kv.txn.compares-are-anded",
    feature: "kv",
    behaviour: "With several compares, the success branch runs only if all of them hold.",
    reference: APPLY_TXN,
    async run(ctx) {
      await putAll(ctx, [
        ["a", "1"],
        ["b", "2"],
      ]);
      const both = [compareValue(ctx.key("a"), EQUAL, "1"), compareValue(ctx.key("b"), EQUAL, "2")];
      expectEqual(await holds(ctx, both), true, "both compares hold");
      const one = [compareValue(ctx.key("a"), EQUAL, "1"), compareValue(ctx.key("b"), EQUAL, "3")];
      expectEqual(await holds(ctx, one), false, "one compare fails");
    },
  },
  {
    name: "kv.txn.branches",
    feature: "kv",
    behaviour:
      "succeeded tells which branch ran; responses has one entry per operation of that branch, of the matching kind and in order; the other branch has no effect.",
    reference: APPLY_TXN,
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      const request = (expected: string) => ({
        compare: [compareValue(ctx.key("a"), EQUAL, expected)],
        success: [
          putOp({ key: ctx.key("s"), value: bytes("then") }),
          rangeOp({ key: ctx.key("a") }),
          deleteOp({ key: ctx.key("a") }),
        ],
        failure: [
          putOp({ key: ctx.key("f"), value: bytes("else") }),
          rangeOp({ key: ctx.key("a") }),
        ],
      });
      const failed = await ctx.client.kv.txn(request("2"));
      expectEqual(failed.succeeded, false, "succeeded when the compare fails");
      expectEqual(failed.responses.length, 2, "responses of the failure branch");
      responseAt(failed.responses, 0, "responsePut");
      expectEqual(
        values(responseAt(failed.responses, 1, "responseRange").kvs),
        ["1"],
        "range in failure branch",
      );
      expectEqual(
        names(ctx, (await rangeAll(ctx)).kvs),
        ["a", "f"],
        "keys after the failure branch",
      );

      const succeeded = await ctx.client.kv.txn(request("1"));
      expectEqual(succeeded.succeeded, true, "succeeded when the compare holds");
      expectEqual(succeeded.responses.length, 3, "responses of the success branch");
      responseAt(succeeded.responses, 0, "responsePut");
      responseAt(succeeded.responses, 1, "responseRange");
      expectEqual(responseAt(succeeded.responses, 2, "responseDeleteRange").deleted, 1n, "deleted");
      expectEqual(
        names(ctx, (await rangeAll(ctx)).kvs),
        ["f", "s"],
        "keys after the success branch",
      );
    },
  },
  {
    name: "kv.txn.one-revision",
    feature: "kv",
    behaviour:
      "Every write of a txn happens at one revision, one above the revision before it; the header carries that revision.",
    reference: "etcdserver/apply.go (applierV3backend.Txn: rev++ once if there are changes)",
    async run(ctx) {
      await putKey(ctx, ctx.key("c"), "0");
      const before = await currentRevision(ctx);
      const response = await ctx.client.kv.txn({
        success: [
          putOp({ key: ctx.key("a"), value: bytes("1") }),
          putOp({ key: ctx.key("b"), value: bytes("2") }),
          deleteOp({ key: ctx.key("c") }),
        ],
      });
      const revision = headerOf(response, "txn").revision;
      expectEqual(revision, before + 1n, "txn revision (run the suite alone)");
      const kvs = (await rangeAll(ctx)).kvs;
      expectEqual(names(ctx, kvs), ["a", "b"], "keys");
      expectEqual(
        kvs.map((kv) => kv.modRevision),
        [revision, revision],
        "mod_revision of every written key",
      );
    },
  },
  {
    name: "kv.txn.read-only",
    feature: "kv",
    behaviour:
      "A txn with no writes (or an empty txn) succeeds without advancing the revision; no compares means success.",
    reference: "etcdserver/apply.go (applierV3backend.Txn)",
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      const before = await currentRevision(ctx);
      const empty = await ctx.client.kv.txn({});
      expectEqual(empty.succeeded, true, "empty txn succeeded");
      expectEqual(empty.responses.length, 0, "empty txn responses");
      const read = await ctx.client.kv.txn({ success: [rangeOp({ key: ctx.key("a") })] });
      expectEqual(values(responseAt(read.responses, 0, "responseRange").kvs), ["1"], "range");
      expectEqual(headerOf(read, "txn").revision, before, "revision after a read-only txn");
      expectEqual(await currentRevision(ctx), before, "store revision (run the suite alone)");
    },
  },
  {
    name: "kv.txn.reads-own-writes",
    feature: "kv",
    behaviour:
      "Operations of a branch run in order: a range after a put or delete in the same txn sees its effect.",
    reference: "mvcc/kvstore_txn.go (storeTxnWrite.Range reads the txn's own changes)",
    async run(ctx) {
      await putKey(ctx, ctx.key("b"), "old");
      const response = await ctx.client.kv.txn({
        success: [
          putOp({ key: ctx.key("a"), value: bytes("new") }),
          rangeOp({ key: ctx.key("a") }),
          deleteOp({ key: ctx.key("b") }),
          rangeOp({ key: ctx.key("b") }),
        ],
      });
      const revision = headerOf(response, "txn").revision;
      const sawPut = responseAt(response.responses, 1, "responseRange");
      expectEqual(values(sawPut.kvs), ["new"], "range after the put");
      expectEqual(sawPut.kvs[0]?.modRevision, revision, "mod_revision seen inside the txn");
      expectEqual(
        responseAt(response.responses, 3, "responseRange").kvs.length,
        0,
        "range after the delete",
      );
    },
  },
  {
    name: "kv.txn.nested",
    feature: "kv",
    behaviour:
      "A txn operation inside a branch runs as a nested txn: its response is a TxnResponse with its own succeeded and responses, and its writes share the outer revision.",
    reference: "etcdserver/apply.go (applyTxn, newTxnResp)",
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "1");
      const response = await ctx.client.kv.txn({
        success: [
          putOp({ key: ctx.key("x"), value: bytes("outer") }),
          txnOp({
            compare: [compareValue(ctx.key("a"), EQUAL, "1")],
            success: [putOp({ key: ctx.key("b"), value: bytes("then") })],
            failure: [putOp({ key: ctx.key("b"), value: bytes("else") })],
          }),
          txnOp({
            compare: [compareValue(ctx.key("a"), EQUAL, "2")],
            success: [putOp({ key: ctx.key("c"), value: bytes("then") })],
            failure: [
              rangeOp({ key: ctx.key("a") }),
              putOp({ key: ctx.key("c"), value: bytes("else") }),
            ],
          }),
        ],
      });
      expectEqual(response.succeeded, true, "outer succeeded");
      const first = responseAt(response.responses, 1, "responseTxn");
      expectEqual(first.succeeded, true, "first nested succeeded");
      responseAt(first.responses, 0, "responsePut");
      const second = responseAt(response.responses, 2, "responseTxn");
      expectEqual(second.succeeded, false, "second nested succeeded");
      expectEqual(
        values(responseAt(second.responses, 0, "responseRange").kvs),
        ["1"],
        "nested range",
      );
      const kvs = (await rangeAll(ctx)).kvs;
      expectEqual(names(ctx, kvs), ["a", "b", "c", "x"], "keys");
      expectEqual(values(kvs), ["1", "then", "else", "outer"], "values");
      const revision = headerOf(response, "txn").revision;
      expectEqual(
        kvs.slice(1).map((kv) => kv.modRevision),
        [revision, revision, revision],
        "revisions",
      );
    },
  },
  {
    name: "kv.txn.nested-compares-see-txn-start",
    feature: "kv",
    behaviour:
      "Every compare of a txn, nested ones included, is evaluated against the store as it was before the txn, not after the branch's earlier operations.",
    reference: "etcdserver/apply.go (compareToPath evaluates all compares up front)",
    async run(ctx) {
      await putKey(ctx, ctx.key("a"), "before");
      const response = await ctx.client.kv.txn({
        success: [
          putOp({ key: ctx.key("a"), value: bytes("after") }),
          txnOp({
            compare: [compareValue(ctx.key("a"), EQUAL, "before")],
            success: [putOp({ key: ctx.key("saw"), value: bytes("before") })],
            failure: [putOp({ key: ctx.key("saw"), value: bytes("after") })],
          }),
        ],
      });
      expectEqual(
        responseAt(response.responses, 1, "responseTxn").succeeded,
        true,
        "nested compare",
      );
      const saw = await ctx.client.kv.range({ key: ctx.key("saw") });
      expectEqual(values(saw.kvs), ["before"], "branch the nested txn took");
    },
  },
  {
    name: "kv.txn.nested-branches-may-put-the-same-key",
    feature: "kv",
    behaviour:
      "The success and failure branches of a nested txn may write the same key (only one runs).",
    reference: CHECK_TXN,
    async run(ctx) {
      const response = await ctx.client.kv.txn({
        success: [
          txnOp({
            compare: [compareNumber(ctx.key("a"), "version", EQUAL, 0n)],
            success: [putOp({ key: ctx.key("a"), value: bytes("created") })],
            failure: [putOp({ key: ctx.key("a"), value: bytes("updated") })],
          }),
        ],
      });
      expectEqual(response.succeeded, true, "succeeded");
      expectEqual(
        values((await ctx.client.kv.range({ key: ctx.key("a") })).kvs),
        ["created"],
        "value",
      );
    },
  },
  {
    name: "kv.txn.duplicate-put",
    feature: "kv",
    behaviour:
      'Two puts of one key in a branch fail with INVALID_ARGUMENT "etcdserver: duplicate key given in txn request"; nothing is written.',
    reference: CHECK_TXN,
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            putOp({ key: ctx.key("a"), value: bytes("1") }),
            putOp({ key: ctx.key("a"), value: bytes("2") }),
          ],
        }),
        { code: Code.InvalidArgument, message: "etcdserver: duplicate key given in txn request" },
        "txn with two puts of one key",
      );
      expectEqual((await rangeAll(ctx)).kvs.length, 0, "keys");
    },
  },
  {
    name: "kv.txn.put-inside-deleted-range",
    feature: "kv",
    behaviour:
      'A put of a key that a delete of the same branch covers fails with INVALID_ARGUMENT "etcdserver: duplicate key given in txn request", also across nesting.',
    reference: CHECK_TXN,
    async run(ctx) {
      const expected = {
        code: Code.InvalidArgument,
        message: "etcdserver: duplicate key given in txn request",
      };
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            deleteOp({ key: ctx.key("a"), rangeEnd: ctx.key("c") }),
            putOp({ key: ctx.key("b"), value: bytes("1") }),
          ],
        }),
        expected,
        "txn with a delete of [a, c) and a put of b",
      );
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            putOp({ key: ctx.key("b"), value: bytes("1") }),
            txnOp({ success: [putOp({ key: ctx.key("b"), value: bytes("2") })] }),
          ],
        }),
        expected,
        "txn with a put of b and a nested put of b",
      );
    },
  },
  {
    name: "kv.txn.too-many-ops",
    feature: "kv",
    behaviour:
      'A branch (or the compare list) longer than --max-txn-ops fails with INVALID_ARGUMENT "etcdserver: too many operations in txn request"; exactly the limit is accepted.',
    reference: CHECK_TXN,
    async run(ctx) {
      const max = ctx.limits.maxTxnOps;
      const puts = (n: number) =>
        Array.from({ length: n }, (_, i) => putOp({ key: ctx.key(`k${i}`), value: bytes("v") }));
      const atLimit = await ctx.client.kv.txn({ success: puts(max) });
      expectEqual(atLimit.responses.length, max, "responses at the limit");
      await expectStatus(
        ctx.client.kv.txn({ success: puts(max + 1) }),
        { code: Code.InvalidArgument, message: "etcdserver: too many operations in txn request" },
        `txn with ${max + 1} puts`,
      );
      const compares = Array.from({ length: max + 1 }, (_, i) =>
        compareNumber(ctx.key(`k${i}`), "version", GREATER, 0n),
      );
      await expectStatus(
        ctx.client.kv.txn({ compare: compares }),
        { code: Code.InvalidArgument, message: "etcdserver: too many operations in txn request" },
        `txn with ${max + 1} compares`,
      );
    },
  },
  {
    name: "kv.txn.empty-key",
    feature: "kv",
    behaviour:
      'An empty key in a compare or in an operation fails the txn with INVALID_ARGUMENT "etcdserver: key is not provided".',
    reference: CHECK_TXN,
    async run(ctx) {
      const expected = { code: Code.InvalidArgument, message: "etcdserver: key is not provided" };
      await expectStatus(
        ctx.client.kv.txn({ compare: [compareValue(new Uint8Array(0), EQUAL, "x")] }),
        expected,
        "txn with an empty compare key",
      );
      await expectStatus(
        ctx.client.kv.txn({ success: [putOp({ key: new Uint8Array(0), value: bytes("x") })] }),
        expected,
        "txn with an empty put key",
      );
      await expectStatus(
        ctx.client.kv.txn({ failure: [rangeOp({ key: new Uint8Array(0) })] }),
        expected,
        "txn with an empty range key in the failure branch",
      );
    },
  },
  {
    name: "kv.txn.empty-request-op",
    feature: "kv",
    behaviour:
      'A RequestOp with no request set fails the txn with INVALID_ARGUMENT "etcdserver: key not found".',
    reference: "etcdserver/api/v3rpc/key.go (checkRequestOp default case)",
    async run(ctx) {
      await expectStatus(
        ctx.client.kv.txn({ success: [{}] }),
        { code: Code.InvalidArgument, message: "etcdserver: key not found" },
        "txn with an empty RequestOp",
      );
    },
  },
  {
    name: "kv.txn.atomic-on-error",
    feature: "kv",
    behaviour:
      'A txn whose branch contains a put with ignore_value of a missing key fails with INVALID_ARGUMENT "etcdserver: key not found" and none of its operations take effect.',
    reference: "etcdserver/apply.go (checkRequests runs before any write)",
    async run(ctx) {
      const before = await currentRevision(ctx);
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            putOp({ key: ctx.key("a"), value: bytes("1") }),
            putOp({ key: ctx.key("missing"), ignoreValue: true }),
          ],
        }),
        { code: Code.InvalidArgument, message: "etcdserver: key not found" },
        "txn with ignore_value of a missing key",
      );
      expectEqual((await rangeAll(ctx)).kvs.length, 0, "keys written");
      check((await currentRevision(ctx)) === before, "the failed txn advanced the revision");
    },
  },
  {
    name: "kv.txn.range-future-revision",
    feature: "kv",
    behaviour:
      'A range inside a txn at a revision above the current one fails the txn with OUT_OF_RANGE "etcdserver: mvcc: required revision is a future revision".',
    reference: "etcdserver/apply.go (checkRequestRange)",
    async run(ctx) {
      const now = await currentRevision(ctx);
      await expectStatus(
        ctx.client.kv.txn({ success: [rangeOp({ key: ctx.key("a"), revision: now + 1000n })] }),
        {
          code: Code.OutOfRange,
          message: "etcdserver: mvcc: required revision is a future revision",
        },
        "txn range at a future revision",
      );
    },
  },
];
