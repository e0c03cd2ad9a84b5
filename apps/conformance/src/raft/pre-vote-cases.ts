import { check, expectEqual } from "../harness/expect.js";
import { expectGranted, expectRefused, type RaftCase } from "./raft-case.js";
import { describeMessage } from "./raft-messages.js";

/** Pre-vote (thesis §9.6) and the leader lease that goes with check-quorum (thesis §4.2.3). */
export const preVoteCases: readonly RaftCase[] = [
  {
    name: "raft.prevote.no-term-or-vote-change",
    behaviour:
      "A pre-vote request is granted or refused by the log rule alone, and changes neither the member's term nor its vote: a pre-vote for the next term and one for a much higher term are granted (each answer naming the requested term), one from a shorter log is refused, the member's term stays, and a real candidate of the next term still gets its vote.",
    reference:
      "Raft thesis §9.6 (Preventing disruptions when a server rejoins the cluster); etcd-io/raft raft.go (Raft.Step: MsgPreVote never changes the term; the answer carries the requested term)",
    requires: ["pre-vote"],
    async run(c) {
      const [p1, p2] = c.peers;
      const term = await c.term();
      const last = c.start.last;
      check(last.index > 0n, "the member's log is empty, so no candidate's log can be shorter");
      for (const asked of [term + 1n, term + 5n]) {
        expectGranted(
          await c.requestVote(p1!, { term: asked, last, preVote: true }),
          asked,
          `${p1!.name}'s pre-vote request for term ${asked}`,
        );
        expectEqual(
          await c.term(),
          term,
          `the member's term after granting a pre-vote for ${asked}`,
        );
      }
      const shorter = { index: last.index - 1n, term: last.term };
      expectRefused(
        await c.requestVote(p2!, { term: term + 1n, last: shorter, preVote: true }),
        term,
        `${p2!.name}'s pre-vote request for term ${term + 1n} from the shorter log (${shorter.index},${shorter.term})`,
      );
      expectEqual(await c.term(), term, "the member's term after three pre-votes");
      expectGranted(
        await c.requestVote(p2!, { term: term + 1n, last }),
        term + 1n,
        `${p2!.name}'s real vote request for term ${term + 1n}, after the member granted pre-votes to ${p1!.name}`,
      );
    },
  },
  {
    name: "raft.prevote.refused-within-leader-lease",
    behaviour:
      "A member that heard from its leader within the election timeout helps no one depose it: pre-vote and vote requests of a higher term from a candidate with an up-to-date log are not granted (etcd drops them unanswered) and its term and leader stay; once the leader has been silent for an election timeout, the same pre-vote is granted.",
    reference:
      "Raft thesis §4.2.3 (Disruptive servers) and §9.6; etcd-io/raft raft.go (Raft.Step, inLease with CheckQuorum)",
    requires: ["pre-vote", "check-quorum"],
    async run(c) {
      const [p1, p2] = c.peers;
      const leaderTerm = (await c.term()) + 1n;
      const leader = await c.lead(p1!, leaderTerm);
      await c.waitForStatus((s) => s.leader === p1!.id, `the member follows ${p1!.name}`);
      const last = c.start.last;
      for (const preVote of [true, false]) {
        const request = c.voteRequest(p2!, { term: leaderTerm + 1n, last, preVote });
        const answer = await c.answerOrSilence(p2!, request);
        if (answer !== undefined) {
          check(
            answer.reject,
            `while following a live leader, the member granted ${describeMessage(request)}: ${describeMessage(answer)}`,
          );
        }
      }
      const status = await c.status();
      expectEqual(status.raftTerm, leaderTerm, "the member's term after the requests");
      expectEqual(status.leader, p1!.id, "the member's leader after the requests");
      leader.stop();
      await c.nextCampaign();
      const term = await c.term();
      expectGranted(
        await c.requestVote(p2!, { term: term + 1n, last, preVote: true }),
        term + 1n,
        `once the leader fell silent, ${p2!.name}'s pre-vote request for term ${term + 1n}`,
      );
    },
  },
];
