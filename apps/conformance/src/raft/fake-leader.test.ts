import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLeader } from "./fake-leader.js";
import { FakePeer } from "./fake-peer.js";

describe("a fake leader's log", () => {
  let peer: FakePeer;
  beforeAll(async () => {
    peer = await FakePeer.listen({ name: "p1" });
  });
  afterAll(async () => {
    await peer.close();
  });

  // Base (3,1), then entries 4..8 of terms 2, 2, 3, 3, 3.
  const leaderWithLog = () => {
    const leader = new FakeLeader(
      {
        nodeId: 1n,
        heartbeatIntervalMs: 100,
        responseTimeoutMs: 1_000,
        signal: new AbortController().signal,
      },
      peer,
      4n,
      { index: 3n, term: 1n },
    );
    leader.propose(2, 2n);
    leader.propose(3, 3n);
    return leader;
  };

  it("numbers proposed entries after its last one, in the given term", () => {
    const leader = leaderWithLog();
    expect(leader.entries.map((e) => [e.index, e.term])).toEqual([
      [4n, 2n],
      [5n, 2n],
      [6n, 3n],
      [7n, 3n],
      [8n, 3n],
    ]);
    expect(leader.last).toEqual({ index: 8n, term: 3n });
    expect([leader.termAt(3n), leader.termAt(5n), leader.termAt(9n), leader.termAt(2n)]).toEqual([
      1n,
      2n,
      undefined,
      undefined,
    ]);
  });

  it("probes next where its own term is at most the hint's, as etcd's findConflictByTerm", () => {
    const leader = leaderWithLog();
    // The member's last entry at or below 8 with term <= 2 is at 8: skip the leader's term-3 run.
    expect(leader.nextProbe(8n, 2n)).toBe(5n);
    expect(leader.nextProbe(8n, 3n)).toBe(8n);
    // A hint of a term older than anything after the base lands on the base.
    expect(leader.nextProbe(7n, 1n)).toBe(3n);
    // A hint beyond the leader's log is capped at its last entry; no term: the index itself.
    expect(leader.nextProbe(20n, 3n)).toBe(8n);
    expect(leader.nextProbe(6n, 0n)).toBe(6n);
  });
});
