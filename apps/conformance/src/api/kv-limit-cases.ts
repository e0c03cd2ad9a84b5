import { Code } from "@connectrpc/connect";
import { expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase } from "./api-context.js";
import { putOp, rangeAll } from "./kv-helpers.js";

const TOO_LARGE = { code: Code.InvalidArgument, message: "etcdserver: request is too large" };
// What etcd adds to --max-request-bytes for the gRPC receive limit (grpcOverheadBytes).
const GRPC_OVERHEAD_BYTES = 512 * 1024;
// Room left for the key and the encoding of the request around a value "just under".
const ENVELOPE_BYTES = 1024;

/** Request size limits (etcd --max-request-bytes) and the statuses that enforce them. */
export const kvLimitCases: readonly ApiCase[] = [
  {
    name: "kv.limits.largest-write-accepted",
    feature: "kv",
    behaviour:
      "A put whose encoded request is below --max-request-bytes is accepted and its value read back intact.",
    reference: "etcdserver/v3_server.go (processInternalRaftRequestOnce)",
    async run(ctx) {
      const value = new Uint8Array(ctx.limits.maxRequestBytes - ENVELOPE_BYTES).fill(0x61);
      value[0] = 0x7a;
      value[value.length - 1] = 0x7a;
      await ctx.client.kv.put({ key: ctx.key("big"), value });
      const response = await ctx.client.kv.range({ key: ctx.key("big") });
      expectEqual(response.kvs[0]?.value.length, value.length, "length read back");
      expectEqual(response.kvs[0]?.value, value, "value read back");
    },
  },
  {
    name: "kv.limits.write-too-large",
    feature: "kv",
    behaviour:
      'A put or txn whose request exceeds --max-request-bytes (but fits the gRPC limit) fails with INVALID_ARGUMENT "etcdserver: request is too large" and writes nothing.',
    reference: "etcdserver/v3_server.go (processInternalRaftRequestOnce: ErrRequestTooLarge)",
    async run(ctx) {
      const value = new Uint8Array(ctx.limits.maxRequestBytes).fill(0x61);
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("big"), value }),
        TOO_LARGE,
        "oversized put",
      );
      const half = new Uint8Array(Math.ceil(ctx.limits.maxRequestBytes / 2)).fill(0x62);
      await expectStatus(
        ctx.client.kv.txn({
          success: [
            putOp({ key: ctx.key("h1"), value: half }),
            putOp({ key: ctx.key("h2"), value: half }),
          ],
        }),
        TOO_LARGE,
        "oversized txn",
      );
      expectEqual((await rangeAll(ctx, { countOnly: true })).count, 0n, "keys written");
    },
  },
  {
    name: "kv.limits.grpc-message-too-large",
    feature: "kv",
    behaviour:
      "A request message larger than --max-request-bytes plus 512 KiB is refused by the gRPC layer with RESOURCE_EXHAUSTED before it is decoded.",
    reference:
      "etcdserver/api/v3rpc/grpc.go (grpc.MaxRecvMsgSize(MaxRequestBytes + grpcOverheadBytes))",
    async run(ctx) {
      const value = new Uint8Array(ctx.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES + 1024);
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("huge"), value }),
        { code: Code.ResourceExhausted },
        "put larger than the gRPC receive limit",
      );
    },
  },
];
