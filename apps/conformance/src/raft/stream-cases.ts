import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { type MessageBatch, MessageBatchSchema, MessageType } from "@raftkv/proto/raft";
import { ConformanceAssertionError } from "../errors.js";
import { check, describeStatus, expectEqual } from "../harness/expect.js";
import type { FakePeer } from "./fake-peer.js";
import type { PeerLinkEnd } from "./peer-link.js";
import { expectGranted, type RaftCase } from "./raft-case.js";
import { describeMessage, raftMessage } from "./raft-messages.js";
import type { ScriptedCluster } from "./scripted-cluster.js";

const PROTO = "proto/raftkv/raft/v1/raft.proto (MessageBatch, StreamResponse)";
const PEER_SERVER = "packages/transport-connect/src/peer-server.ts (checkAddress)";

/**
 * Sends `batch` on a stream of its own from `peer` and waits for the member to end that
 * stream; fails unless it ends with a gRPC status other than OK. Then checks that none
 * of the batch's messages reached Raft (no answer, same term) and that the member still
 * grants a proper vote request afterwards.
 */
async function expectRefusedBatch(
  c: ScriptedCluster,
  peer: FakePeer,
  batch: MessageBatch,
  what: string,
): Promise<void> {
  const term = await c.term();
  const marks = c.peers.map((p) => p.mark());
  const link = peer.openLink();
  link.send(batch);
  const timeout = sleep(c.responseTimeoutMs, undefined, { ref: false }).then(
    (): PeerLinkEnd | undefined => undefined,
  );
  const end = await Promise.race([link.ended, timeout]);
  link.close();
  check(
    end !== undefined,
    `${what}: the member neither refused the stream within ${c.responseTimeoutMs} ms nor ended it`,
  );
  check(
    end.status === "refused",
    `${what}: expected the stream to end with an error status, but it ended ${end.status === "ok" ? "with OK" : "by the suite"}`,
  );
  const answered = c.peers.flatMap((p, i) =>
    p.since(marks[i]!, (m) => m.type === MessageType.VOTE_RESPONSE),
  )[0];
  if (answered !== undefined) {
    throw new ConformanceAssertionError(
      `${what}: the stream was refused (${describeStatus(end.code, end.message)}), yet the member answered its vote request: ${describeMessage(answered.message)}`,
    );
  }
  expectEqual(await c.term(), term, `${what}: the member's term after the refused batch`);
  expectGranted(
    await c.requestVote(c.peers[0]!, { term: term + 1n, last: c.start.last }),
    term + 1n,
    `${what}: afterwards, a proper vote request from ${c.peers[0]!.name}`,
  );
}

/** A batch from `from` to `to` of `clusterId` carrying a vote request of `term`. */
function voteBatch(
  c: ScriptedCluster,
  fields: { clusterId?: bigint; from: bigint; to?: bigint; messageFrom?: bigint; term: bigint },
): MessageBatch {
  return create(MessageBatchSchema, {
    clusterId: fields.clusterId ?? c.clusterId,
    from: fields.from,
    to: fields.to ?? c.nodeId,
    messages: [
      raftMessage(MessageType.VOTE, {
        from: fields.messageFrom ?? fields.from,
        to: fields.to ?? c.nodeId,
        term: fields.term,
        index: c.start.last.index,
        logTerm: c.start.last.term,
      }),
    ],
  });
}

/** RaftService.Stream itself: acknowledgements, and who may send on it. */
export const streamCases: readonly RaftCase[] = [
  {
    name: "raft.stream.acknowledges-batches",
    behaviour:
      "The member acknowledges the batches it receives on a Stream with a running count (batches_received) and hands their messages to Raft: three batches, each with a pre-vote request, are acknowledged up to 3 and each answered.",
    reference: PROTO,
    async run(c) {
      const peer = c.peers[0]!;
      const link = peer.openLink();
      const mark = peer.mark();
      for (let i = 0; i < 3; i++) {
        link.send(
          create(MessageBatchSchema, {
            clusterId: c.clusterId,
            from: peer.id,
            to: c.nodeId,
            messages: [
              raftMessage(MessageType.PRE_VOTE, { from: peer.id, to: c.nodeId, term: 1n }),
            ],
          }),
        );
      }
      const acknowledged = await link.acknowledgedAtLeast(3n, c.responseTimeoutMs);
      const end = link.isClosed ? await link.ended : undefined;
      link.close();
      check(
        end === undefined,
        `the stream ended before acknowledging 3 batches: ${end?.status === "refused" ? describeStatus(end.code, end.message) : end?.status}`,
      );
      expectEqual(acknowledged, 3n, "batches_received after three batches");
      let after = mark;
      for (let i = 1; i <= 3; i++) {
        const answer = await peer.waitFor(
          (m) => m.type === MessageType.PRE_VOTE_RESPONSE,
          `an answer to pre-vote request ${i} of 3`,
          { after, timeoutMs: c.responseTimeoutMs, signal: c.signal },
        );
        after = answer.seq;
      }
    },
  },
  {
    name: "raft.stream.refuses-foreign-cluster",
    behaviour:
      "A batch carrying another cluster's id is refused: the stream ends with an error status, none of its messages reaches Raft (a vote request in it is not answered and the term stays), and the member keeps working.",
    reference: `${PROTO} (a receiver of another cluster refuses the batch); ${PEER_SERVER}; etcd rafthttp checks X-Etcd-Cluster-ID the same way`,
    async run(c) {
      const peer = c.peers[0]!;
      const other = c.clusterId ^ 0x5a5a5an;
      await expectRefusedBatch(
        c,
        peer,
        voteBatch(c, { clusterId: other, from: peer.id, term: (await c.term()) + 1n }),
        `a batch of cluster ${other} (the member's is ${c.clusterId})`,
      );
    },
  },
  {
    name: "raft.stream.refuses-unknown-member",
    behaviour:
      "A batch from a member id that is not in the cluster is refused: the stream ends with an error status, its vote request is not answered, the term stays, and the member keeps working.",
    reference: `${PEER_SERVER}; etcd rafthttp refuses streams from removed or unknown members`,
    async run(c) {
      const known = new Set([c.nodeId, ...c.peers.map((p) => p.id)]);
      let stranger = (c.nodeId ^ 0x3c3c3cn) | 1n;
      while (known.has(stranger)) stranger += 2n;
      await expectRefusedBatch(
        c,
        c.peers[0]!,
        voteBatch(c, { from: stranger, term: (await c.term()) + 1n }),
        `a batch from member ${stranger}, which is not in the cluster`,
      );
    },
  },
  {
    name: "raft.stream.refuses-misaddressed-batches",
    behaviour:
      "A batch addressed to another member, and a batch whose message claims a sender other than the batch's, are each refused: the stream ends with an error status, nothing reaches Raft, and the member keeps working. A member speaks only for itself and hears only what is meant for it.",
    reference: `${PROTO} (messages from one member to another); ${PEER_SERVER}`,
    async run(c) {
      const [p1, p2] = c.peers;
      await expectRefusedBatch(
        c,
        p1!,
        voteBatch(c, { from: p1!.id, to: p2!.id, term: (await c.term()) + 1n }),
        `a batch from ${p1!.name} addressed to ${p2!.name} (member ${p2!.id}), sent to the member`,
      );
      await expectRefusedBatch(
        c,
        p1!,
        voteBatch(c, { from: p1!.id, messageFrom: p2!.id, term: (await c.term()) + 1n }),
        `a batch from ${p1!.name} carrying a vote request from ${p2!.name}`,
      );
    },
  },
];
