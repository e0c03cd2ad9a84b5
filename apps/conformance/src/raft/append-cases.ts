import { check, expectEqual } from "../harness/expect.js";
import {
  expectAccepted,
  expectGranted,
  expectRefused,
  type RaftCase,
  replicateFromBase,
} from "./raft-case.js";
import { describeMessage } from "./raft-messages.js";

const HANDLE_APPEND = "etcd-io/raft raft.go (handleAppendEntries) and raft_log.go (maybeAppend)";

/** AppendEntries: the consistency check, reject hints, appends, truncation, durability. */
export const appendCases: readonly RaftCase[] = [
  {
    name: "raft.append.mismatch-rejected-with-hint",
    behaviour:
      "An append from the leader of the current term whose previous entry (index, term) the member lacks is rejected in the leader's term; the rejection names the probed index, and its hint (reject_hint, log_term) points at or below the member's last entry and below the probe, so a leader that follows it (etcd's findConflictByTerm) reaches an append the member accepts, after which the member holds the leader's entries.",
    reference: `Raft paper §5.3 (consistency check and the optimization of rejections) and Figure 2 (AppendEntries receiver, rule 2); ${HANDLE_APPEND}`,
    async run(c) {
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(5);
      const probe = leader.last;
      const answer = await leader.append({ prevIndex: probe.index, through: probe.index });
      check(
        answer.reject,
        `an append after (${probe.index},${probe.term}), which the member lacks, was accepted: ${describeMessage(answer)}`,
      );
      expectEqual(answer.term, leader.term, "the rejection's term");
      expectEqual(answer.index, probe.index, "the index the rejection names (the probe's)");
      const memberLast = c.start.last.index;
      check(
        answer.rejectHint <= memberLast && answer.rejectHint < probe.index,
        `the hint ${answer.rejectHint} must be at or below the member's last index ${memberLast} and below the probe ${probe.index}`,
      );
      check(
        answer.logTerm <= probe.term,
        `the hint's term ${answer.logTerm} is above the probe's term ${probe.term}`,
      );
      const replication = await leader.replicate({ maxRounds: 8 });
      expectAccepted(replication.accepted, leader.last.index, "the append the hints led to");
      expectAccepted(
        await leader.append({ prevIndex: leader.last.index }),
        leader.last.index,
        `an empty append after the leader's last entry (${leader.last.index},${leader.last.term})`,
      );
    },
  },
  {
    name: "raft.append.matching-accepted",
    behaviour:
      "An append whose previous entry matches is accepted, answering with the index of its last new entry; a repeated, shorter append of entries the member already holds is accepted too and does not cut the entries after it (only a conflict truncates).",
    reference: `Raft paper §5.3 and Figure 2 (AppendEntries receiver, rules 3 and 4); ${HANDLE_APPEND}`,
    async run(c) {
      const leader = await c.lead(c.peers[0]!, (await c.term()) + 1n);
      leader.propose(3);
      await replicateFromBase(leader, "three entries after the member's last entry");
      const base = leader.base.index;
      expectAccepted(
        await leader.append({ prevIndex: base, through: base + 2n }),
        base + 2n,
        "a repeat of the first two of those entries",
      );
      expectAccepted(
        await leader.append({ prevIndex: base + 3n }),
        base + 3n,
        `an empty append after the third entry (${base + 3n},${leader.term})`,
      );
    },
  },
  {
    name: "raft.append.conflicting-suffix-truncated",
    behaviour:
      "Entries that conflict with a new leader's (same index, other term) are replaced, and everything after them removed: after a leader of a newer term overwrites four uncommitted entries with two of its own, an append after the new last entry is accepted, and appends after any of the old entries (their index with their old term) are rejected.",
    reference: `Raft paper §5.3 and Figure 2 (AppendEntries receiver, rule 3), Figure 7; ${HANDLE_APPEND}`,
    async run(c) {
      const [p1, p2] = c.peers;
      const term = await c.term();
      const first = await c.lead(p1!, term + 1n);
      first.propose(4);
      await replicateFromBase(first, `four entries of term ${first.term}`);
      // The second leader's log holds two entries of a term between: it led then, and the
      // member never heard from it.
      const second = await c.lead(p2!, term + 3n);
      second.propose(2, term + 2n);
      const replication = await second.replicate({ maxRounds: 10 });
      expectAccepted(replication.accepted, second.last.index, "the new leader's entries");
      for (let index = first.last.index; index > first.base.index; index--) {
        const answer = await second.append({ prevIndex: index, prevTerm: first.term });
        check(
          answer.reject,
          `an append after (${index},${first.term}), an entry the new leader's log replaced, was accepted: ${describeMessage(answer)}`,
        );
      }
      expectAccepted(
        await second.append({ prevIndex: second.last.index }),
        second.last.index,
        `an empty append after the new last entry (${second.last.index},${second.last.term})`,
      );
    },
  },
  {
    name: "raft.append.persisted-across-restart",
    behaviour:
      "Entries the member acknowledged survive a crash: after SIGKILL and a restart it refuses a candidate whose log ends just before them, grants one whose log ends with them, and accepts a new leader's append after the last of them.",
    reference: `Raft paper §5.3 and Figure 2 (log entries are persistent state, stored before responding); etcd-io/raft node.go (entries saved before messages are sent)`,
    requires: ["restart"],
    async run(c) {
      const [p1, p2] = c.peers;
      const leader = await c.lead(p1!, (await c.term()) + 1n);
      leader.propose(3);
      await replicateFromBase(leader, "three entries");
      await c.crashAndRestart();
      const last = leader.last;
      let term = await c.term();
      term++;
      expectRefused(
        await c.requestVote(p2!, { term, last: { index: last.index - 1n, term: last.term } }),
        term,
        `after the restart, a candidate whose log ends at (${last.index - 1n},${last.term})`,
      );
      term++;
      expectGranted(
        await c.requestVote(p2!, { term, last }),
        term,
        `after the restart, a candidate whose log ends at (${last.index},${last.term})`,
      );
      term++;
      const next = await c.lead(p1!, term, last);
      expectAccepted(
        await next.append({ prevIndex: last.index }),
        last.index,
        `a new leader's empty append after (${last.index},${last.term})`,
      );
    },
  },
];
