import { describe, expect, it } from "vitest";
import { RawNode } from "./raw-node.js";
import { createRng } from "./rng.js";
import { MemoryStorage } from "./testing/memory-storage.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { type Entry, EntryType, type Message, MessageType, Role } from "./types.js";

const conf3 = {
  voters: [1, 2, 3],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

function msg(partial: Partial<Message> & Pick<Message, "type" | "from" | "to" | "term">): Message {
  return { logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...partial };
}

function storageWithTerms(terms: number[], hardTerm = terms.at(-1) ?? 0): MemoryStorage {
  const s = new MemoryStorage();
  s.append(
    terms.map(
      (t, i): Entry => ({ index: i + 1, term: t, type: EntryType.Normal, data: new Uint8Array() }),
    ),
  );
  s.setHardState({ term: hardTerm, vote: 0, commit: 0 });
  return s;
}

function node(
  id: number,
  storage = new MemoryStorage(),
  opts: Partial<ConstructorParameters<typeof RawNode>[0]> = {},
) {
  return new RawNode({ id, storage, hardState: storage.hardState, confState: conf3, ...opts });
}

function drainReady(n: RawNode) {
  const rd = n.ready();
  n.advance(rd);
  return rd;
}

describe("elections", () => {
  it("a follower campaigns after a randomized timeout in [electionTick, 2·electionTick) ticks", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const n = node(1, new MemoryStorage(), { electionTick: 10, rng: createRng(seed) });
      let ticks = 0;
      while (n.role === Role.Follower && ticks < 100) {
        n.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    // The timeouts are spread over the range, which is what breaks split votes.
    expect(seen.size).toBeGreaterThan(5);
  });

  it("the election timeout comes only from the injected RNG: equal seeds, equal timeouts", () => {
    const timeout = (seed: number) => {
      const n = node(1, new MemoryStorage(), { rng: createRng(seed) });
      let t = 0;
      while (n.role === Role.Follower) {
        n.tick();
        t++;
      }
      return t;
    };
    for (let seed = 1; seed < 20; seed++) expect(timeout(seed)).toBe(timeout(seed));
  });

  it("a candidate with a majority of votes becomes leader and appends an empty entry of its term", () => {
    const c = new SyncCluster({ node: { preVote: false } });
    expect(c.elect(1)).toBe(true);
    const log = c.node(1).raw.log();
    expect(c.node(1).raw.term).toBe(1);
    expect(log.lastIndex()).toBe(1);
    expect(log.entries(1, 2)[0]).toMatchObject({ index: 1, term: 1, data: new Uint8Array() });
    for (const id of [2, 3]) expect(c.node(id).raw.leader).toBe(1);
  });

  it("a member grants at most one vote per term", () => {
    const n = node(3);
    n.step(msg({ type: MessageType.Vote, from: 1, to: 3, term: 2 }));
    n.step(msg({ type: MessageType.Vote, from: 2, to: 3, term: 2 }));
    const rd = n.ready();
    const resp = rd.messagesAfterSave.filter((m) => m.type === MessageType.VoteResponse);
    expect(resp.map((m) => [m.to, m.reject])).toEqual([
      [1, false],
      [2, true],
    ]);
    // The same candidate asking again (its answer was lost) is granted again.
    n.advance(rd);
    n.step(msg({ type: MessageType.Vote, from: 1, to: 3, term: 2 }));
    expect(n.ready().messagesAfterSave[0]).toMatchObject({ to: 1, reject: false });
  });

  it("the vote is in the hard state to save, synced, before its response may be sent", () => {
    const n = node(3);
    n.step(msg({ type: MessageType.Vote, from: 1, to: 3, term: 5 }));
    const rd = n.ready();
    expect(rd.hardState).toMatchObject({ term: 5, vote: 1 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([]);
    expect(rd.messagesAfterSave.map((m) => m.type)).toEqual([MessageType.VoteResponse]);
  });

  it.each([
    ["a higher last term", 3, 1, false],
    ["the same last term and a longer log", 2, 4, false],
    ["the same last term and the same length", 2, 3, false],
    ["the same last term and a shorter log", 2, 2, true],
    ["a lower last term", 1, 9, true],
  ])(
    "a vote is refused to a candidate whose log is behind: voter with %s",
    (_, lastTerm, lastIndex, reject) => {
      const voter = node(3, storageWithTerms([1, 2, 2], 2));
      voter.step(
        msg({
          type: MessageType.Vote,
          from: 1,
          to: 3,
          term: 4,
          logTerm: lastTerm,
          index: lastIndex,
        }),
      );
      // Here the candidate's log is (lastTerm, lastIndex) and the voter's is (2, 3).
      const resp = voter.ready().messagesAfterSave[0]!;
      expect(resp.reject).toBe(reject);
    },
  );

  it("a message with a higher term makes a leader step down to follower in that term", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1).raw;
    leader.step(msg({ type: MessageType.AppendResponse, from: 2, to: 1, term: 7 }));
    expect(leader.role).toBe(Role.Follower);
    expect(leader.term).toBe(7);
  });

  it("a candidate that loses the vote returns to follower without changing its term", () => {
    const n = node(1, new MemoryStorage(), { preVote: false });
    n.campaign();
    drainReady(n);
    expect(n.role).toBe(Role.Candidate);
    n.step(msg({ type: MessageType.VoteResponse, from: 2, to: 1, term: 1, reject: true }));
    n.step(msg({ type: MessageType.VoteResponse, from: 3, to: 1, term: 1, reject: true }));
    expect(n.role).toBe(Role.Follower);
    expect(n.term).toBe(1);
  });

  it("a candidate counts its own vote only once its vote is saved", () => {
    const solo = new RawNode({
      id: 1,
      storage: new MemoryStorage(),
      confState: { ...conf3, voters: [1] },
      preVote: false,
    });
    solo.campaign();
    expect(solo.role).toBe(Role.Candidate);
    const rd = solo.ready();
    expect(rd.hardState).toMatchObject({ term: 1, vote: 1 });
    expect(solo.role).toBe(Role.Candidate);
    solo.advance(rd);
    expect(solo.role).toBe(Role.Leader);
  });

  it("messages from an older term are ignored; an old leader's append is answered with the current term", () => {
    const n = node(2, storageWithTerms([], 5));
    n.step(msg({ type: MessageType.Append, from: 1, to: 2, term: 3 }));
    n.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 4 }));
    expect(n.term).toBe(5);
    const rd = n.ready();
    expect(rd.messagesAfterSave).toEqual([
      expect.objectContaining({ type: MessageType.AppendResponse, to: 1, term: 5 }),
    ]);
  });
});

describe("pre-vote", () => {
  it("a pre-candidate keeps its term and vote until a quorum pre-grants", () => {
    const n = node(1, storageWithTerms([], 3));
    n.campaign();
    expect(n.role).toBe(Role.PreCandidate);
    expect(n.term).toBe(3);
    const rd = n.ready();
    expect(rd.hardState).toBeUndefined();
    expect(rd.messagesAfterSave.map((m) => [m.type, m.term])).toEqual([
      [MessageType.PreVote, 4],
      [MessageType.PreVote, 4],
    ]);
    n.advance(rd);
    n.step(msg({ type: MessageType.PreVoteResponse, from: 2, to: 1, term: 4 }));
    expect(n.role).toBe(Role.Candidate);
    expect(n.term).toBe(4);
  });

  it("a partitioned member that rejoins does not disrupt a healthy leader", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 100; i++) {
      c.tick(3);
      c.stabilize();
    }
    // It campaigned (pre-vote) again and again, but never entered a new term.
    expect(c.node(3).raw.term).toBe(1);
    c.heal();
    for (let i = 0; i < 40; i++) {
      c.tick();
      c.stabilize();
    }
    expect(c.leader()).toBe(1);
    expect(c.node(1).raw.term).toBe(1);
    expect(c.node(3).raw.leader).toBe(1);
  });

  it("without pre-vote, the same rejoin deposes the leader (the problem pre-vote solves)", () => {
    const c = new SyncCluster({ node: { preVote: false, checkQuorum: false } });
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 100; i++) {
      c.tick(3);
      c.stabilize();
    }
    expect(c.node(3).raw.term).toBeGreaterThan(1);
    c.heal();
    for (let i = 0; i < 40; i++) {
      c.tick();
      c.stabilize();
    }
    // The rejoined member's vote requests carried its inflated term: everyone moved on.
    expect(c.node(1).raw.term).toBeGreaterThan(1);
  });

  it("a pre-vote is refused to a candidate whose log is behind", () => {
    const voter = node(3, storageWithTerms([1, 2], 2));
    voter.step(msg({ type: MessageType.PreVote, from: 1, to: 3, term: 3, logTerm: 1, index: 5 }));
    expect(voter.ready().messagesAfterSave[0]).toMatchObject({ reject: true, term: 2 });
    expect(voter.term).toBe(2);
  });
});

describe("check-quorum", () => {
  it("a leader that cannot hear a quorum steps down within one election timeout", () => {
    const c = new SyncCluster({ node: { electionTick: 10 } });
    c.elect(1);
    c.isolate(1);
    let ticks = 0;
    while (c.node(1).raw.role === Role.Leader && ticks < 100) {
      c.tick(1);
      c.stabilize();
      ticks++;
    }
    expect(c.node(1).raw.role).toBe(Role.Follower);
    expect(ticks).toBeLessThanOrEqual(10);
  });

  it("a leader that hears a quorum keeps leading, even with one member gone", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.crash(3);
    for (let i = 0; i < 100; i++) {
      c.tick();
      c.stabilize();
    }
    expect(c.leader()).toBe(1);
    expect(c.node(1).raw.term).toBe(1);
  });

  it("a member that heard from its leader within the election timeout ignores vote requests (leader lease)", () => {
    const c = new SyncCluster({ node: { preVote: false } });
    c.elect(1);
    const follower = c.node(2).raw;
    follower.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 9, logTerm: 1, index: 1 }));
    expect(follower.term).toBe(1);
    expect(follower.leader).toBe(1);
  });

  it("a leader isolated by a one-way failure (it can send, not receive) steps down and a new leader is elected", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.cutOneWay(2, 1);
    c.cutOneWay(3, 1);
    for (let i = 0; i < 60 && (c.leader() === 1 || c.leader() === 0); i++) {
      c.tick();
      c.stabilize();
    }
    expect(c.node(1).raw.role).not.toBe(Role.Leader);
    expect([2, 3]).toContain(c.leader());
  });
});
