import { check, expectEqual } from "../harness/expect.js";
import type { ApiCase } from "./api-context.js";
import { headerOf, putKey } from "./kv-helpers.js";

const STATUS = "etcdserver/api/v3rpc/maintenance.go (maintenanceServer.Status)";

/** Maintenance.Status. */
export const maintenanceCases: readonly ApiCase[] = [
  {
    name: "maintenance.status.fields",
    feature: "maintenance",
    behaviour:
      "Status reports the server version (x.y.z), a non-zero database size with db_size_in_use <= db_size, the leader's member id, a Raft term >= 1, committed and applied indexes >= 1, and a header naming the cluster and the answering member.",
    reference: STATUS,
    async run(ctx) {
      for (const client of ctx.clients) {
        const status = await client.maintenance.status({});
        const where = `status of ${client.endpoint}`;
        check(
          /^\d+\.\d+\.\d+/.test(status.version),
          `${where}: version ${JSON.stringify(status.version)} is not x.y.z`,
        );
        check(status.dbSize > 0n, `${where}: db_size is 0`);
        check(
          status.dbSizeInUse > 0n && status.dbSizeInUse <= status.dbSize,
          `${where}: db_size_in_use ${status.dbSizeInUse} not in 1..db_size ${status.dbSize}`,
        );
        check(status.leader !== 0n, `${where}: no leader`);
        check(status.raftTerm >= 1n, `${where}: raft_term ${status.raftTerm}`);
        check(status.raftIndex >= 1n, `${where}: raft_index ${status.raftIndex}`);
        check(
          status.raftAppliedIndex >= 1n,
          `${where}: raft_applied_index ${status.raftAppliedIndex}`,
        );
        expectEqual(status.errors, [], `${where}: errors`);
        expectEqual(status.isLearner, false, `${where}: is_learner`);
        const header = headerOf(status, where);
        check(header.clusterId !== 0n, `${where}: header cluster_id is 0`);
        check(header.memberId !== 0n, `${where}: header member_id is 0`);
        check(header.raftTerm >= 1n, `${where}: header raft_term is 0`);
      }
    },
  },
  {
    name: "maintenance.status.leader-agreement",
    feature: "maintenance",
    behaviour:
      "Members of one cluster report the same cluster id and the same leader, and at most one of them reports itself (header member_id) as the leader.",
    reference: STATUS,
    async run(ctx) {
      // An election between the calls could change the leader; retry a few times.
      let problem = "";
      for (let attempt = 0; attempt < 5; attempt++) {
        const statuses = await Promise.all(ctx.clients.map((c) => c.maintenance.status({})));
        const leaders = new Set(statuses.map((s) => s.leader));
        const clusters = new Set(statuses.map((s) => s.header?.clusterId));
        const selfLeaders = statuses.filter((s) => s.leader === s.header?.memberId);
        if (clusters.size !== 1) {
          problem = `members report different cluster ids: ${[...clusters].join(", ")}`;
          break;
        }
        if (leaders.size === 1 && selfLeaders.length <= 1) return;
        problem = `leaders reported: ${[...leaders].join(", ")}; self-reported leaders: ${selfLeaders.length}`;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      check(false, problem);
    },
  },
  {
    name: "maintenance.status.indexes-advance",
    feature: "maintenance",
    behaviour:
      "A write advances the Raft log: after an acknowledged put, the answering member's raft_index and (once applied) raft_applied_index are above their earlier values; the header revision covers the put.",
    reference: STATUS,
    async run(ctx) {
      const before = await ctx.client.maintenance.status({});
      const revision = await putKey(ctx, ctx.key("a"), "1");
      const deadline = Date.now() + 10_000;
      for (;;) {
        const after = await ctx.client.maintenance.status({});
        if (
          after.raftIndex > before.raftIndex &&
          after.raftAppliedIndex > before.raftAppliedIndex
        ) {
          check(headerOf(after, "status").revision >= revision, "header revision below the put's");
          return;
        }
        check(
          Date.now() < deadline,
          `indexes did not advance within 10 s: index ${before.raftIndex} -> ${after.raftIndex}, applied ${before.raftAppliedIndex} -> ${after.raftAppliedIndex}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  },
];
