import { createServer } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { check, expectEqual, expectStatus } from "../harness/expect.js";
import type { ApiCase, ApiContext } from "./api-context.js";
import { headerOf } from "./kv-helpers.js";

const CLUSTER_RPC = "etcdserver/api/v3rpc/member.go";

/** A loopback port nothing listens on right now, for a member that will never start. */
async function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/**
 * MemberAdd, retried while etcd refuses membership changes because its members have
 * not all been connected for its health interval (5 s after a start or a restart):
 * UNAVAILABLE "etcdserver: unhealthy cluster".
 */
async function addWhenHealthy(
  ctx: ApiContext,
  request: { peerURLs: string[]; isLearner: boolean },
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await ctx.client.cluster.memberAdd(request);
    } catch (error) {
      const status = ConnectError.from(error);
      const transient =
        status.code === Code.Unavailable && status.rawMessage === "etcdserver: unhealthy cluster";
      if (!transient || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Cluster: membership listing and the changes that do not risk quorum. */
export const clusterCases: readonly ApiCase[] = [
  {
    name: "cluster.member-list",
    feature: "cluster",
    behaviour:
      "MemberList lists every member with a non-zero id, peer URLs, and (once started) a name and client URLs; the answering member is among them.",
    reference: CLUSTER_RPC,
    async run(ctx) {
      const response = await ctx.client.cluster.memberList({});
      const self = headerOf(response, "member list").memberId;
      check(response.members.length >= 1, "no members");
      for (const member of response.members) {
        check(member.ID !== 0n, "a member has id 0");
        check(member.peerURLs.length > 0, `member ${member.ID} has no peer URLs`);
      }
      const me = response.members.find((m) => m.ID === self);
      check(me !== undefined, `answering member ${self} is not in the list`);
      check(me.name !== "", "answering member has no name");
      check(me.clientURLs.length > 0, "answering member has no client URLs");
    },
  },
  {
    name: "cluster.member-remove-unknown",
    feature: "cluster",
    behaviour:
      'Removing an id that is not a member fails with NOT_FOUND "etcdserver: member not found".',
    reference: CLUSTER_RPC,
    async run(ctx) {
      const members = (await ctx.client.cluster.memberList({})).members.map((m) => m.ID);
      let unknown = 0x5eed_0000_0001n;
      while (members.includes(unknown)) unknown++;
      await expectStatus(
        ctx.client.cluster.memberRemove({ ID: unknown }),
        { code: Code.NotFound, message: "etcdserver: member not found" },
        "remove of an unknown member",
      );
    },
  },
  {
    name: "cluster.member-promote-voter",
    feature: "cluster",
    behaviour:
      'Promoting a member that is already a voter fails with FAILED_PRECONDITION "etcdserver: can only promote a learner member".',
    reference: "etcdserver/server.go (mayPromoteMember)",
    async run(ctx) {
      const self = headerOf(await ctx.client.maintenance.status({}), "status").memberId;
      await expectStatus(
        ctx.client.cluster.memberPromote({ ID: self }),
        { code: Code.FailedPrecondition, message: "etcdserver: can only promote a learner member" },
        "promote of a voter",
      );
    },
  },
  {
    name: "cluster.learner-add-remove",
    feature: "cluster",
    behaviour:
      "MemberAdd with is_learner adds a non-voting member (quorum is unchanged) that MemberList shows as a learner without a name; MemberRemove removes it.",
    reference: CLUSTER_RPC,
    async run(ctx) {
      const peerURL = `http://127.0.0.1:${await unusedPort()}`;
      const added = await addWhenHealthy(ctx, { peerURLs: [peerURL], isLearner: true });
      const id = added.member?.ID;
      check(id !== undefined && id !== 0n, "MemberAdd returned no member id");
      try {
        expectEqual(added.member?.isLearner, true, "is_learner of the added member");
        expectEqual(added.member?.peerURLs, [peerURL], "peer URLs of the added member");
        const listed = (await ctx.client.cluster.memberList({})).members.find((m) => m.ID === id);
        check(listed !== undefined, "the added learner is not listed");
        expectEqual(listed.isLearner, true, "listed is_learner");
        expectEqual(listed.name, "", "name of a learner that never started");
      } finally {
        await ctx.client.cluster.memberRemove({ ID: id });
      }
      const after = (await ctx.client.cluster.memberList({})).members;
      check(!after.some((m) => m.ID === id), "the removed learner is still listed");
    },
  },
];
