import { describe, expect, it } from "vitest";
import { freePorts } from "../jepsen/free-port.js";
import { startToyRaftMember } from "../testdata/toy-raft-member.js";
import { runRaftSuite } from "./raft-suite.js";

async function runAgainstToy(forgetsVotes: boolean, cases: string[]) {
  const ports = await freePorts(2);
  const peers = ports.map((port, i) => ({ name: `p${i + 1}`, url: `http://127.0.0.1:${port}` }));
  const toy = await startToyRaftMember({ peerUrls: peers.map((p) => p.url), forgetsVotes });
  try {
    return await runRaftSuite({
      mode: { kind: "target", peerUrl: toy.peerUrl, clientEndpoint: toy.clientEndpoint, peers },
      cases,
      caseTimeoutMs: 60_000,
    });
  } finally {
    await toy.close();
  }
}

// The vote cases against a toy member that answers only vote requests, once keeping the
// one-vote-per-term rule and once breaking it: the case must tell them apart.
describe("vote cases against a toy member", () => {
  it("pass a member that grants one vote per term", { timeout: 120_000 }, async () => {
    const results = await runAgainstToy(false, [
      "raft.vote.higher-term-granted-once-per-term",
      "raft.vote.lower-term-refused",
    ]);
    expect(results.map((r) => [r.name, r.outcome])).toEqual([
      ["raft.vote.lower-term-refused", { status: "passed" }],
      ["raft.vote.higher-term-granted-once-per-term", { status: "passed" }],
    ]);
  });

  it("fail a member that grants two votes in one term, saying which", {
    timeout: 120_000,
  }, async () => {
    const [result] = await runAgainstToy(true, ["raft.vote.higher-term-granted-once-per-term"]);
    expect(result?.outcome.status).toBe("failed");
    const message = result?.outcome.status === "failed" ? result.outcome.message : "";
    expect(message).toMatch(
      /p2's vote request in term \d+, after the member voted for p1: expected a refusal, got VOTE_RESPONSE term=\d+ reject=false/,
    );
  });
});
