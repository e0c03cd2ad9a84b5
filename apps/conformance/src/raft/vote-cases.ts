import { check, expectEqual } from "../harness/expect.js";
import { expectGranted, expectRefused, type RaftCase } from "./raft-case.js";
import { describeMessage } from "./raft-messages.js";

const ETCD_STEP = "etcd-io/raft raft.go (Raft.Step)";

/** RequestVote: terms, one vote per term, durable votes, the up-to-date log rule. */
export const voteCases: readonly RaftCase[] = [
  {
    name: "raft.vote.lower-term-refused",
    behaviour:
      "A vote request in a term lower than the member's is never granted and leaves its term as it is; any answer is a refusal carrying the member's term (the paper replies false with currentTerm; etcd-io/raft drops a lower-term vote request without answering, so silence passes too). A lower-term pre-vote request is answered with a refusal in the member's term, which is how a stale pre-candidate learns it.",
    reference: `Raft paper §5.1 and Figure 2 (RequestVote receiver, rule 1); ${ETCD_STEP}, case m.Term < r.Term`,
    async run(c) {
      const [p1, p2] = c.peers;
      const raised = (await c.term()) + 2n;
      expectGranted(
        await c.requestVote(p1!, { term: raised, last: c.start.last }),
        raised,
        `${p1!.name}'s vote request in term ${raised}, to raise the member's term`,
      );
      // The candidate's log is more up to date than the member's, so only its term can
      // be the reason for a refusal. Its last term is below its own term, as a
      // candidate's always is.
      const stale = raised - 1n;
      const candidateLast = { index: c.start.last.index + 10n, term: stale - 1n };
      const answer = await c.answerOrSilence(
        p2!,
        c.voteRequest(p2!, { term: stale, last: candidateLast }),
      );
      if (answer !== undefined) {
        expectRefused(answer, raised, `the vote request in the lower term ${stale}`);
      }
      if (c.has("pre-vote")) {
        expectRefused(
          await c.requestVote(p2!, { term: stale, last: candidateLast, preVote: true }),
          raised,
          `the pre-vote request in the lower term ${stale}`,
        );
      }
      expectEqual(await c.term(), raised, "the member's term after the lower-term requests");
    },
  },
  {
    name: "raft.vote.higher-term-granted-once-per-term",
    behaviour:
      "A vote request in a higher term from a candidate whose log is as up to date as the member's is granted and the member adopts the term; a second candidate in that term is refused (one vote per term), while the candidate it voted for is granted again when it repeats its request (its first answer may have been lost).",
    reference: `Raft paper §5.2, §5.4.1 and Figure 2 (RequestVote receiver, rule 2; Rules for Servers: adopt a higher term); ${ETCD_STEP}, canVote`,
    async run(c) {
      const [p1, p2] = c.peers;
      const term = (await c.term()) + 1n;
      const request = { term, last: c.start.last };
      expectGranted(
        await c.requestVote(p1!, request),
        term,
        `${p1!.name}'s vote request in term ${term}`,
      );
      expectEqual(await c.term(), term, "the member's term after granting a vote in a higher term");
      expectRefused(
        await c.requestVote(p2!, request),
        term,
        `${p2!.name}'s vote request in term ${term}, after the member voted for ${p1!.name}`,
      );
      expectGranted(
        await c.requestVote(p1!, request),
        term,
        `${p1!.name}'s repeated vote request in term ${term}`,
      );
    },
  },
  {
    name: "raft.vote.persisted-across-restart",
    behaviour:
      "A vote survives a crash: after granting a vote and being killed with SIGKILL, the restarted member is still in that term and refuses another candidate of the term, while its own candidate is granted again.",
    reference:
      "Raft paper §5.2 and Figure 2 (persistent state: currentTerm and votedFor, updated on stable storage before responding); etcd-io/raft node.go (HardState saved before messages are sent)",
    requires: ["restart"],
    async run(c) {
      const [p1, p2] = c.peers;
      const term = (await c.term()) + 1n;
      const request = { term, last: c.start.last };
      expectGranted(
        await c.requestVote(p1!, request),
        term,
        `${p1!.name}'s vote request in term ${term}`,
      );
      await c.crashAndRestart();
      expectEqual(await c.term(), term, "the restarted member's term");
      expectRefused(
        await c.requestVote(p2!, request),
        term,
        `after the restart, ${p2!.name}'s vote request in term ${term}`,
      );
      expectGranted(
        await c.requestVote(p1!, request),
        term,
        `after the restart, ${p1!.name}'s repeated vote request in term ${term}`,
      );
    },
  },
  {
    name: "raft.vote.stale-log-refused",
    behaviour:
      "A candidate whose log is less up to date than the member's is refused: one whose last entry has a lower term (even with a longer log), and one whose last entry has the same term but a lower index; a candidate whose last entry equals the member's is granted.",
    reference: `Raft paper §5.4.1 (election restriction) and Figure 2 (RequestVote receiver, rule 2); ${ETCD_STEP} and raft_log.go (isUpToDate)`,
    async run(c) {
      const [p1, p2] = c.peers;
      // Give the member a last entry of a newer term than its bootstrap entries, then
      // let the leader go silent so that the member stops deferring to it.
      const leader = await c.lead(p1!, (await c.term()) + 1n);
      leader.propose(2);
      const ack = await leader.append({ prevIndex: leader.base.index });
      check(!ack.reject, `the append of two entries was refused: ${describeMessage(ack)}`);
      leader.stop();
      const campaign = await c.nextCampaign();
      expectEqual(campaign.last, leader.last, "the last entry the member's campaign names");
      const last = leader.last;
      let term = await c.term();
      term++;
      expectRefused(
        await c.requestVote(p2!, {
          term,
          last: { index: last.index + 5n, term: last.term - 1n },
        }),
        term,
        `a candidate in term ${term} whose last entry (${last.index + 5n},${last.term - 1n}) has a lower term than the member's (${last.index},${last.term})`,
      );
      term++;
      expectRefused(
        await c.requestVote(p2!, { term, last: { index: last.index - 1n, term: last.term } }),
        term,
        `a candidate in term ${term} whose log (${last.index - 1n},${last.term}) is shorter than the member's (${last.index},${last.term})`,
      );
      term++;
      expectGranted(
        await c.requestVote(p2!, { term, last }),
        term,
        `a candidate in term ${term} whose last entry equals the member's`,
      );
    },
  },
];
