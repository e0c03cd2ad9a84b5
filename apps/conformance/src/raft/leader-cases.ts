import { setTimeout as sleep } from "node:timers/promises";
import { type Message, MessageType } from "@raftkv/proto/raft";
import { check } from "../harness/expect.js";
import type { RaftCase } from "./raft-case.js";
import { describeMessage, raftMessage } from "./raft-messages.js";
import type { ScriptedCluster } from "./scripted-cluster.js";

/**
 * Fake peers that behave as healthy followers of the member: they grant its (pre-)votes
 * when `grantVotes()` says so, acknowledge its appends (their logs match it: they hold
 * nothing else) and answer its heartbeats, echoing the context as etcd does.
 */
function followTheMember(c: ScriptedCluster, grantVotes: () => boolean): void {
  for (const peer of c.peers) {
    peer.respondWith((m: Message) => {
      const answer = (type: MessageType, fields: { index?: bigint; context?: Uint8Array } = {}) =>
        raftMessage(type, { from: peer.id, to: c.nodeId, term: m.term, ...fields });
      switch (m.type) {
        case MessageType.PRE_VOTE:
          return grantVotes() ? answer(MessageType.PRE_VOTE_RESPONSE) : undefined;
        case MessageType.VOTE:
          return grantVotes() ? answer(MessageType.VOTE_RESPONSE) : undefined;
        case MessageType.APPEND:
          return answer(MessageType.APPEND_RESPONSE, {
            index: m.index + BigInt(m.entries.length),
          });
        case MessageType.HEARTBEAT:
          return answer(MessageType.HEARTBEAT_RESPONSE, { context: m.context });
        default:
          return undefined;
      }
    });
  }
}

/** The member as leader. */
export const leaderCases: readonly RaftCase[] = [
  {
    name: "raft.leader.steps-down-on-higher-term",
    behaviour:
      "A member its peers vote for becomes leader, starts its term with an entry of that term and commits it once a quorum holds it; when a follower then answers in a higher term, it adopts that term and steps down: Status no longer names it leader and it sends no more heartbeats or appends.",
    reference:
      "Raft paper §5.1 (a server that sees a higher term reverts to follower), §5.2, §5.4.2 and §8 (a new leader commits an entry of its own term); Raft thesis §6.4; etcd-io/raft raft.go (becomeLeader appends an empty entry; Raft.Step, m.Term > r.Term)",
    async run(c) {
      let granting = true;
      followTheMember(c, () => granting);
      const elected = await c.waitForStatus(
        (s) => s.leader === c.nodeId,
        "the member wins the election its fake peers vote for",
        4 * c.timing.electionTimeoutMs + c.responseTimeoutMs,
      );
      const term = elected.raftTerm;
      const [p1] = c.peers;
      const own = await p1!.waitFor(
        (m) =>
          m.type === MessageType.APPEND &&
          m.term === term &&
          m.entries.some((e) => e.term === term),
        `an append from the new leader carrying an entry of its term ${term}`,
        { timeoutMs: c.responseTimeoutMs, signal: c.signal },
      );
      const ownIndex = own.message.entries.find((e) => e.term === term)!.index;
      await c.waitForStatus(
        (s) => s.raftIndex >= ownIndex,
        `the leader commits its entry ${ownIndex} of term ${term} once its followers hold it`,
      );
      granting = false;
      const higher = term + 3n;
      const deposing = raftMessage(MessageType.APPEND_RESPONSE, {
        from: p1!.id,
        to: c.nodeId,
        term: higher,
        index: ownIndex,
      });
      p1!.send(deposing);
      await c.waitForStatus(
        (s) => s.leader !== c.nodeId && s.raftTerm >= higher,
        `the member steps down and adopts term ${higher} after ${describeMessage(deposing)}`,
      );
      // Messages it sent just before stepping down may still be on their way.
      await sleep(2 * c.timing.heartbeatIntervalMs);
      const marks = c.peers.map((p) => p.mark());
      await sleep(Math.max(1_000, 5 * c.timing.heartbeatIntervalMs));
      const sent = c.peers.flatMap((p, i) =>
        p.since(
          marks[i]!,
          (m) => m.type === MessageType.HEARTBEAT || m.type === MessageType.APPEND,
        ),
      );
      check(
        sent.length === 0,
        `after stepping down the member still sent ${sent.length} leader messages, e.g. ${sent
          .slice(0, 3)
          .map((r) => describeMessage(r.message))
          .join("; ")}`,
      );
    },
  },
];
