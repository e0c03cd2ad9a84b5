import { randomBytes } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { KvRequestSchema } from "@raftkv/proto";
import { MessageType } from "@raftkv/proto/raft";
import { check, expectEqual } from "../harness/expect.js";
import { expectAccepted, type RaftCase, replicateFromBase } from "./raft-case.js";
import { describeMessage, raftMessage } from "./raft-messages.js";

const COMMIT =
  "etcd-io/raft raft.go (handleHeartbeat, handleAppendEntries) and raft_log.go (commitTo)";

/**
 * Commit propagation, observed through Maintenance.Status: raft_index is the member's
 * commit index and raft_applied_index what it applied. These cases append empty entries,
 * which every Raft-based store accepts (a new leader appends one itself); the last case
 * commits raftkv's own entry encoding and reads the result back.
 */
export const commitCases: readonly RaftCase[] = [
  {
    name: "raft.commit.heartbeat-advances-commit",
    behaviour:
      "Appended entries are not committed until the leader says so; a heartbeat carrying a commit index the member holds makes it commit and apply exactly that far, a heartbeat with a lower commit index never moves it back, and a later one moves it on.",
    reference: `Raft paper §5.3 and Figure 2 (commitIndex, AppendEntries receiver rule 5; heartbeats are empty AppendEntries); ${COMMIT}`,
    async run(c) {
      const committed = (await c.status()).raftIndex;
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(3);
      await replicateFromBase(leader, "three entries with commit 0");
      const base = leader.base.index;
      expectEqual((await c.status()).raftIndex, committed, "the commit index before any commit");
      await leader.heartbeat(base + 2n);
      await c.waitForStatus(
        (s) => s.raftIndex >= base + 2n && s.raftAppliedIndex >= base + 2n,
        `commit and apply up to ${base + 2n} after a heartbeat with commit ${base + 2n}`,
      );
      expectEqual((await c.status()).raftIndex, base + 2n, "the commit index after that heartbeat");
      await leader.heartbeat(base + 1n);
      expectEqual(
        (await c.status()).raftIndex,
        base + 2n,
        `the commit index after a heartbeat with the lower commit ${base + 1n}`,
      );
      leader.heartbeatCommit = base + 3n;
      await c.waitForStatus(
        (s) => s.raftIndex === base + 3n && s.raftAppliedIndex >= base + 3n,
        `commit and apply up to ${base + 3n} once heartbeats carry commit ${base + 3n}`,
      );
    },
  },
  {
    name: "raft.commit.append-capped-at-last-new-entry",
    behaviour:
      "An append commits no further than its last new entry: with the leader's commit index beyond it, the member commits min(leader commit, last new entry), even when it holds later entries (the append vouches only for the log up to its last entry).",
    reference: `Raft paper Figure 2 (AppendEntries receiver, rule 5: commitIndex = min(leaderCommit, index of last new entry)); ${COMMIT}`,
    async run(c) {
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(3);
      await replicateFromBase(leader, "three entries with commit 0");
      const base = leader.base.index;
      expectAccepted(
        await leader.append({ prevIndex: base, through: base + 1n, commit: base + 3n }),
        base + 1n,
        `an append of the first entry only, carrying commit ${base + 3n}`,
      );
      await c.waitForStatus((s) => s.raftIndex >= base + 1n, `commit up to ${base + 1n}`);
      expectEqual(
        (await c.status()).raftIndex,
        base + 1n,
        `the commit index after an append whose last new entry is ${base + 1n}`,
      );
      expectAccepted(
        await leader.append({ prevIndex: base + 3n, commit: base + 3n }),
        base + 3n,
        `an empty append after ${base + 3n}, carrying commit ${base + 3n}`,
      );
      await c.waitForStatus((s) => s.raftIndex === base + 3n, `commit up to ${base + 3n}`);
    },
  },
  {
    name: "raft.commit.beyond-log-refused",
    behaviour:
      "A heartbeat claiming a commit index beyond the member's last entry (which a correct leader never sends: it sends min(commit, the member's match index)) does not make the member commit entries it does not have, and does not stop it: it stays up, and commits normally afterwards. etcd-io/raft panics here; a member must not.",
    reference: `Raft paper Figure 2 (commitIndex never exceeds the log); etcd-io/raft raft.go (sendHeartbeat sends min(pr.Match, committed)); raftkv's rule that bad input never crashes a member`,
    async run(c) {
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(2);
      await replicateFromBase(leader, "two entries");
      const last = leader.last.index;
      const bogus = raftMessage(MessageType.HEARTBEAT, {
        from: leader.peer.id,
        to: c.nodeId,
        term: leader.term,
        commit: last + 100n,
      });
      const answer = await c.answerOrSilence(leader.peer, bogus);
      const status = await c.status();
      check(
        status.raftIndex <= last,
        `after ${describeMessage(bogus)}, the member's commit index is ${status.raftIndex}, beyond its last entry ${last}${answer === undefined ? "" : ` (it answered ${describeMessage(answer)})`}`,
      );
      await leader.heartbeat(last);
      await c.waitForStatus((s) => s.raftIndex === last, `commit up to ${last} afterwards`);
    },
  },
  {
    name: "raft.commit.applies-kv-entries",
    behaviour:
      "Entries a leader commits are applied in log order and only once committed: three raftkv puts (raftkv.kv.v1.KvRequest) appended by the fake leader are invisible to a serializable Range until their commit, and visible exactly up to the commit index after it.",
    reference:
      "Raft paper §5.3 (a committed entry is applied to the state machine) and Figure 2 (lastApplied); proto/raftkv/kv/v1/request.proto (the entry encoding)",
    requires: ["raftkv-entries"],
    async run(c) {
      const prefix = `/raftkv-conformance/raft/${randomBytes(6).toString("hex")}/`;
      const keys = [1, 2, 3].map((i) => Buffer.from(`${prefix}k${i}`));
      const value = (i: number) => Buffer.from(`v${i + 1}`);
      const puts = keys.map((key, i) =>
        toBinary(
          KvRequestSchema,
          create(KvRequestSchema, {
            id: randomBytes(8).readBigUInt64BE() >> 1n,
            request: { case: "put", value: { key, value: value(i) } },
          }),
        ),
      );
      const visible = async (): Promise<string[]> => {
        const found: string[] = [];
        for (const key of keys) {
          const r = await c.node.client.kv.range({ key, serializable: true });
          if (r.kvs.length > 0) found.push(Buffer.from(r.kvs[0]!.value).toString());
        }
        return found;
      };
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(puts);
      await replicateFromBase(leader, "three puts with commit 0");
      expectEqual(await visible(), [], "the puts' values before any commit");
      const base = leader.base.index;
      await leader.heartbeat(base + 2n);
      await c.waitForStatus(
        (s) => s.raftAppliedIndex >= base + 2n,
        `apply up to ${base + 2n} after a heartbeat with commit ${base + 2n}`,
      );
      expectEqual(await visible(), ["v1", "v2"], `the puts' values once ${base + 2n} is committed`);
      leader.heartbeatCommit = base + 3n;
      await c.waitForStatus(
        (s) => s.raftAppliedIndex >= base + 3n,
        `apply up to ${base + 3n} once heartbeats carry commit ${base + 3n}`,
      );
      expectEqual(await visible(), ["v1", "v2", "v3"], "the puts' values once all are committed");
    },
  },
];
