import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { LeaseKeepAliveRequestSchema, LeaseKeepAliveResponse } from "@raftkv/proto/etcd";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase, ApiContext } from "./api-context.js";
import { openBidiSession } from "./bidi-session.js";
import { bytes, names, putKey, rangeAll, text } from "./kv-helpers.js";

const LEASE_NOT_FOUND = { code: Code.NotFound, message: "etcdserver: requested lease not found" };
const LESSOR = "lease/lessor.go";
const LEASE_RPC = "etcdserver/api/v3rpc/lease.go";
// etcd's upper bound on a lease TTL in seconds (lease.MaxLeaseTTL).
const MAX_LEASE_TTL = 9_000_000_000n;

/** Grants a lease for the case and revokes it when `body` ends. */
async function withLease(
  ctx: ApiContext,
  ttl: bigint,
  body: (id: bigint) => Promise<void>,
): Promise<void> {
  const granted = await ctx.client.lease.leaseGrant({ TTL: ttl });
  check(granted.error === "", `lease grant error: ${granted.error}`);
  try {
    await body(granted.ID);
  } finally {
    await ctx.client.lease.leaseRevoke({ ID: granted.ID }).catch(() => undefined);
  }
}

/** Lease: grant, attach, time-to-live, keep-alive, revoke, expiry, and their errors. */
export const leaseCases: readonly ApiCase[] = [
  {
    name: "lease.grant",
    feature: "lease",
    behaviour:
      "LeaseGrant with ID 0 picks a non-zero id and answers the TTL granted (the requested TTL when above the server minimum).",
    reference: LESSOR,
    async run(ctx) {
      const granted = await ctx.client.lease.leaseGrant({ TTL: 60n });
      try {
        check(granted.ID !== 0n, "lease id is 0");
        expectEqual(granted.TTL, 60n, "TTL");
        expectEqual(granted.error, "", "error");
      } finally {
        await ctx.client.lease.leaseRevoke({ ID: granted.ID });
      }
    },
  },
  {
    name: "lease.grant-with-id",
    feature: "lease",
    behaviour:
      'LeaseGrant with an id uses it; granting an id that exists fails with FAILED_PRECONDITION "etcdserver: lease already exists".',
    reference: LESSOR,
    async run(ctx) {
      // Random, so that two runs against one server do not collide.
      const id = BigInt(Math.floor(Math.random() * 2 ** 40) + 1_000_000);
      const granted = await ctx.client.lease.leaseGrant({ ID: id, TTL: 60n });
      try {
        expectEqual(granted.ID, id, "lease id");
        await expectStatus(
          ctx.client.lease.leaseGrant({ ID: id, TTL: 60n }),
          { code: Code.FailedPrecondition, message: "etcdserver: lease already exists" },
          "grant of an existing id",
        );
      } finally {
        await ctx.client.lease.leaseRevoke({ ID: id });
      }
    },
  },
  {
    name: "lease.ttl-too-large",
    feature: "lease",
    behaviour:
      'A TTL above 9 000 000 000 s fails with OUT_OF_RANGE "etcdserver: too large lease TTL".',
    reference: LESSOR,
    async run(ctx) {
      await expectStatus(
        ctx.client.lease.leaseGrant({ TTL: MAX_LEASE_TTL + 1n }),
        { code: Code.OutOfRange, message: "etcdserver: too large lease TTL" },
        "grant with a huge TTL",
      );
    },
  },
  {
    name: "lease.attach-and-time-to-live",
    feature: "lease",
    behaviour:
      "A put with a lease attaches the key (its lease field is the id); LeaseTimeToLive reports granted TTL, remaining TTL <= granted, and with keys=true the attached keys.",
    reference: LEASE_RPC,
    async run(ctx) {
      await withLease(ctx, 60n, async (id) => {
        await ctx.client.kv.put({ key: ctx.key("a"), value: bytes("1"), lease: id });
        const kv = (await ctx.client.kv.range({ key: ctx.key("a") })).kvs[0];
        expectEqual(kv?.lease, id, "key's lease");
        const ttl = await ctx.client.lease.leaseTimeToLive({ ID: id, keys: true });
        expectEqual(ttl.ID, id, "id");
        expectEqual(ttl.grantedTTL, 60n, "granted TTL");
        check(ttl.TTL > 0n && ttl.TTL <= 60n, `remaining TTL ${ttl.TTL} not in 1..60`);
        expectEqual(
          ttl.keys.map((key) => text(key.subarray(ctx.prefix.length))),
          ["a"],
          "attached keys",
        );
      });
    },
  },
  {
    name: "lease.revoke-deletes-keys",
    feature: "lease",
    behaviour:
      "Revoking a lease deletes every key attached to it; the lease is then unknown (TimeToLive answers TTL -1).",
    reference: LEASE_RPC,
    async run(ctx) {
      const granted = await ctx.client.lease.leaseGrant({ TTL: 60n });
      await ctx.client.kv.put({ key: ctx.key("a"), value: bytes("1"), lease: granted.ID });
      await ctx.client.kv.put({ key: ctx.key("b"), value: bytes("1"), lease: granted.ID });
      await putKey(ctx, ctx.key("c"), "no lease");
      await ctx.client.lease.leaseRevoke({ ID: granted.ID });
      expectEqual(names(ctx, (await rangeAll(ctx)).kvs), ["c"], "keys after the revoke");
      const ttl = await ctx.client.lease.leaseTimeToLive({ ID: granted.ID });
      expectEqual(ttl.TTL, -1n, "TTL of a revoked lease");
    },
  },
  {
    name: "lease.not-found",
    feature: "lease",
    behaviour:
      'Revoking an unknown lease, or putting a key with one, fails with NOT_FOUND "etcdserver: requested lease not found".',
    reference: LEASE_RPC,
    async run(ctx) {
      const unknown = BigInt(Math.floor(Math.random() * 2 ** 40) + 2 ** 41);
      await expectStatus(ctx.client.lease.leaseRevoke({ ID: unknown }), LEASE_NOT_FOUND, "revoke");
      await expectStatus(
        ctx.client.kv.put({ key: ctx.key("a"), value: bytes("1"), lease: unknown }),
        LEASE_NOT_FOUND,
        "put with an unknown lease",
      );
    },
  },
  {
    name: "lease.keep-alive",
    feature: "lease",
    behaviour:
      "Each LeaseKeepAlive request renews the lease and is answered with its id and full TTL; an unknown lease is answered with TTL 0.",
    reference: LEASE_RPC,
    async run(ctx) {
      await withLease(ctx, 60n, async (id) => {
        const session = openBidiSession<
          MessageInitShape<typeof LeaseKeepAliveRequestSchema>,
          LeaseKeepAliveResponse
        >((requests, options) => ctx.client.lease.leaseKeepAlive(requests, options), {
          signal: ctx.signal,
        });
        try {
          session.send({ ID: id });
          const renewed = await session.next("keep-alive response");
          expectEqual(renewed.ID, id, "id");
          expectEqual(renewed.TTL, 60n, "TTL");
          const unknown = BigInt(Math.floor(Math.random() * 2 ** 40) + 2 ** 42);
          session.send({ ID: unknown });
          const missing = await session.next("keep-alive response for an unknown lease");
          expectEqual(missing.ID, unknown, "id of the unknown lease");
          expectEqual(missing.TTL, 0n, "TTL of the unknown lease");
        } finally {
          session.close();
        }
      });
    },
  },
  {
    name: "lease.leases",
    feature: "lease",
    behaviour: "LeaseLeases lists every live lease, including one just granted.",
    reference: LEASE_RPC,
    async run(ctx) {
      await withLease(ctx, 60n, async (id) => {
        const list = await ctx.client.lease.leaseLeases({});
        check(
          list.leases.some((lease) => lease.ID === id),
          `lease ${id} missing from LeaseLeases`,
        );
      });
    },
  },
  {
    name: "lease.expiry",
    feature: "lease",
    behaviour:
      "A lease not kept alive expires after its TTL (raised to the server minimum if shorter) and its keys are deleted.",
    reference: LESSOR,
    async run(ctx) {
      const granted = await ctx.client.lease.leaseGrant({ TTL: 1n });
      await ctx.client.kv.put({ key: ctx.key("a"), value: bytes("1"), lease: granted.ID });
      // Expiry depends on the server's clock and minimum TTL; wait for it, bounded.
      const deadline = Date.now() + 30_000 + Number(granted.TTL) * 1000;
      for (;;) {
        const left = await ctx.client.kv.range({ key: ctx.key("a") });
        if (left.kvs.length === 0) break;
        check(
          Date.now() < deadline,
          "key of the expired lease still present after 30 s past its TTL",
        );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const ttl = await ctx.client.lease.leaseTimeToLive({ ID: granted.ID });
      expectEqual(ttl.TTL, -1n, "TTL of the expired lease");
    },
  },
];
