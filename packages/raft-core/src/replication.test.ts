import { afterEach, describe, expect, it } from "vitest";
import { LeaderNotFoundError, NotLeaderError, ProposalDroppedError } from "./errors.js";
import { injectBug } from "./sim/bugs.js";
import { MemoryStorage } from "./testing/memory-storage.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { type Entry, EntryType, MessageType, Role } from "./types.js";

const data = (s: string) => new TextEncoder().encode(s);
const text = (e: Entry) => new TextDecoder().decode(e.data);

/** Durable storage holding entries of the given terms at indexes 1.. and hard-state term `term`. */
function storageWithTerms(
  terms: number[],
  term = terms.at(-1) ?? 0,
  payload = (i: number) => `x${i}`,
): MemoryStorage {
  const s = new MemoryStorage();
  s.append(
    terms.map(
      (t, i): Entry => ({
        index: i + 1,
        term: t,
        type: EntryType.Normal,
        data: data(payload(i + 1)),
      }),
    ),
  );
  s.setHardState({ term, vote: 0, commit: 0 });
  return s;
}

function logTerms(c: SyncCluster, id: number): number[] {
  const log = c.node(id).raw.log();
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i));
  return out;
}

describe("log replication", () => {
  it("Figure 7: followers with missing and extra entries converge to the leader's log", () => {
    // Raft paper, Figure 7: the leader for term 8 and six followers (a)-(f).
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<number, number[]> = {
      2: [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a) missing one entry
      3: [1, 1, 1, 4], // (b) missing many
      4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c) one extra uncommitted entry of term 6
      5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra entries of term 7
      6: [1, 1, 1, 4, 4, 4, 4], // (e) missing, with extra entries of term 4
      7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f) extra entries of terms 2 and 3
    };
    const ids = [1, 2, 3, 4, 5, 6, 7];
    const c = new SyncCluster({ ids, node: { preVote: false } });
    c.addNode(1, storageWithTerms(leaderLog, 7));
    for (const [id, terms] of Object.entries(followers))
      c.addNode(Number(id), storageWithTerms(terms, 7));
    // The leader wins term 8 with votes from (a), (b), (e) and (f), whose logs are behind its own.
    expect(c.elect(1)).toBe(true);
    expect(c.node(1).raw.term).toBe(8);
    const expected = [...leaderLog, 8];
    for (const id of ids) expect(logTerms(c, id)).toEqual(expected);
    const commit = c.node(1).raw.log().committed;
    expect(commit).toBe(11);
    for (const id of ids) expect(c.node(id).raw.log().committed).toBe(11);
  });

  describe("Figure 8: an entry from an earlier term is never committed by counting replicas", () => {
    let undo: (() => void) | undefined;
    afterEach(() => {
      undo?.();
      undo = undefined;
    });

    /**
     * The situation of Figure 8 (c): S1 leads term 4 with (2, term 2) in its log; S5 holds
     * (2, term 3) from its short leadership in term 3. S1 replicates index 2 to S2 and S3,
     * so a majority holds it, while its own term's entry (3, term 4) reaches nobody.
     */
    function figure8(): SyncCluster {
      const ids = [1, 2, 3, 4, 5];
      // maxSizePerMsg 1 with 4-byte payloads: every append carries exactly one entry, so
      // index 2 can travel without index 3.
      // No check-quorum lease, so S5 can win right after S1 crashes.
      const c = new SyncCluster({
        ids,
        node: { preVote: false, checkQuorum: false, maxSizePerMsg: 1 },
      });
      const s1 = (i: number) => (i === 1 ? "x1" : `s1-${i}`);
      const s5 = (i: number) => (i === 1 ? "x1" : `s5-${i}`);
      c.addNode(1, storageWithTerms([1, 2], 3, s1));
      c.addNode(2, storageWithTerms([1], 3));
      c.addNode(3, storageWithTerms([1], 3));
      c.addNode(4, storageWithTerms([1], 3));
      c.addNode(5, storageWithTerms([1, 3], 3, s5));
      // Index 1 was committed long ago.
      for (const id of ids) {
        c.node(id).storage.setHardState({ term: 3, vote: 0, commit: 1 });
        c.addNode(id, c.node(id).storage);
      }
      // S1 campaigns for term 4; S5 refuses (its last term 3 > 2) but S2-S4 grant.
      c.node(1).raw.campaign();
      for (let i = 0; i < 10; i++) {
        for (const n of c.nodes.values()) if (n.raw.hasReady()) c.process(n);
        for (const m of c.dropQueued()) {
          if (m.type === MessageType.Append && m.from === 1) {
            // S4 and S5 hear nothing from S1; S2 and S3 never receive the term-4 entry in
            // an append they would accept (a probe they reject is fine).
            if (m.to === 4 || m.to === 5) continue;
            const wouldAccept = c.node(m.to).raw.log().lastIndex() >= m.index;
            if (wouldAccept && m.entries.some((e) => e.term === 4)) continue;
          }
          c.node(m.to).raw.step(m);
        }
      }
      return c;
    }

    it("the old-term entry held by a majority stays uncommitted until an entry of the current term commits", () => {
      const c = figure8();
      expect(c.node(1).raw.role).toBe(Role.Leader);
      expect(c.node(1).raw.term).toBe(4);
      expect(c.node(2).raw.log().term(2)).toBe(2); // a majority (S1, S2, S3) holds (2, term 2)...
      expect(c.node(3).raw.log().term(2)).toBe(2);
      expect(c.node(1).raw.log().committed).toBe(1); // ...and it is not committed.
      // Once the term-4 entry reaches a majority, both commit.
      for (let i = 0; i < 3; i++) {
        c.tick(1);
        c.stabilize();
      }
      expect(c.node(1).raw.log().committed).toBe(3);
      for (const id of [1, 2, 3, 4, 5])
        expect(c.node(id).applied.map(text)).toEqual(["x1", "s1-2"]);
      expect(c.node(5).raw.log().term(2)).toBe(2);
    });

    it("with the rule broken, the entry counted as committed is later overwritten (what the rule prevents)", () => {
      undo = injectBug("commit-old-term");
      const c = figure8();
      expect(c.node(1).raw.log().committed).toBe(2);
      expect(c.node(1).applied.map(text)).toEqual(["x1", "s1-2"]);
      // S1 crashes; S5 (last term 3) wins term 5 with votes from S2, S3, S4 and overwrites index 2.
      c.crash(1);
      undo();
      undo = undefined;
      // S5's first campaign (term 4) fails: everyone voted in term 4; the next one wins.
      for (let i = 0; i < 3 && c.node(5).raw.role !== Role.Leader; i++) c.elect(5);
      expect(c.node(5).raw.role).toBe(Role.Leader);
      c.node(5).raw.propose(data("after"));
      c.stabilize();
      expect(c.node(2).applied.map(text)).toEqual(["x1", "s5-2", "after"]);
      expect(c.node(2).raw.log().term(2)).toBe(3);
      // The state machine of S1 applied "s1-2" at index 2; S2 applied "s5-2" there.
      expect(text(c.node(1).applied[1]!)).not.toBe(text(c.node(2).applied[1]!));
    });
  });

  it("a committed entry reaches followers' commit index with the next append or heartbeat", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.propose(data("a"));
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.node(id).raw.log().committed).toBe(2);
    // A follower that missed the commit learns it from a heartbeat (commit capped at its match).
    c.isolate(3);
    c.node(1).raw.propose(data("b"));
    c.stabilize();
    expect(c.node(1).raw.log().committed).toBe(3);
    expect(c.node(3).raw.log().committed).toBe(2);
    c.heal();
    c.tick(1);
    c.stabilize();
    expect(c.node(3).raw.log().committed).toBe(3);
    expect(c.node(3).applied.map(text)).toEqual(["a", "b"]);
  });

  it("heartbeats carry the commit index only up to what the follower is known to hold", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.cutOneWay(1, 3);
    c.node(1).raw.propose(data("a"));
    c.stabilize();
    c.heal();
    c.tick(1);
    c.process(c.node(1));
    const hb = c.queued().find((m) => m.type === MessageType.Heartbeat && m.to === 3);
    expect(c.node(1).raw.log().committed).toBe(2);
    expect(hb?.commit).toBe(1);
  });

  it("the leader's appends may go out before its own save; followers answer only after theirs", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1).raw;
    leader.propose(data("a"));
    const rd = leader.ready();
    expect(rd.entries.length).toBe(1);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.filter((m) => m.type === MessageType.Append).length).toBe(2);
    const follower = c.node(2).raw;
    follower.step(rd.messages.find((m) => m.to === 2)!);
    const frd = follower.ready();
    expect(frd.messages).toEqual([]);
    expect(frd.messagesAfterSave.map((m) => m.type)).toEqual([MessageType.AppendResponse]);
  });

  it("the leader counts its own copy only once it is saved", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(3);
    const leader = c.node(1);
    leader.raw.propose(data("a"));
    const rd = leader.raw.ready();
    for (const m of rd.messages) if (m.to === 2) c.node(2).raw.step(m);
    c.process(c.node(2));
    for (const m of c.dropQueued()) if (m.to === 1) leader.raw.step(m);
    // Follower 2 holds the entry; the leader has not saved it: one durable copy of three.
    expect(leader.raw.log().committed).toBe(1);
    leader.storage.append(rd.entries);
    leader.raw.advance(rd);
    expect(leader.raw.log().committed).toBe(2);
  });

  it("proposals made between two Readies travel in one append per follower", () => {
    const c = new SyncCluster();
    c.elect(1);
    for (let i = 0; i < 50; i++) c.node(1).raw.propose(data(`p${i}`));
    const rd = c.node(1).raw.ready();
    const appends = rd.messages.filter((m) => m.type === MessageType.Append);
    expect(appends.map((m) => [m.to, m.entries.length])).toEqual([
      [2, 50],
      [3, 50],
    ]);
  });

  it("an append carries at most maxSizePerMsg bytes of entries (but at least one entry)", () => {
    const c = new SyncCluster({ node: { maxSizePerMsg: 100 } });
    c.elect(1);
    for (let i = 0; i < 10; i++) c.node(1).raw.propose(new Uint8Array(30));
    c.node(1).raw.propose(new Uint8Array(500));
    const rd = c.node(1).raw.ready();
    const sizes = rd.messages.filter((m) => m.to === 2).map((m) => m.entries.length);
    expect(sizes).toEqual([3, 3, 3, 1, 1]);
  });

  it("pipelines up to maxInflightMsgs appends to a replicating follower without waiting", () => {
    const c = new SyncCluster({ node: { maxInflightMsgs: 3 } });
    c.elect(1);
    const leader = c.node(1).raw;
    c.cut(1, 2); // follower 2 never answers
    const sent: number[] = [];
    for (let i = 0; i < 6; i++) {
      leader.propose(data(`p${i}`));
      const rd = c.process(c.node(1));
      sent.push(rd.messages.filter((m) => m.to === 2 && m.type === MessageType.Append).length);
      c.stabilize();
    }
    expect(sent).toEqual([1, 1, 1, 0, 0, 0]);
    expect(leader.status().progress?.get(2)).toMatchObject({
      state: "replicate",
      inflight: 3,
      paused: true,
    });
    // Follower 3 answered every append, so its window kept moving.
    expect(leader.status().progress?.get(3)).toMatchObject({ inflight: 0, paused: false });
  });

  it("bounds the bytes in flight to one follower by maxInflightBytes", () => {
    const c = new SyncCluster({ node: { maxInflightBytes: 250, maxSizePerMsg: 100 } });
    c.elect(1);
    c.cut(1, 2);
    for (let i = 0; i < 20; i++) c.node(1).raw.propose(new Uint8Array(50));
    const rd = c.process(c.node(1));
    const bytes = rd.messages
      .filter((m) => m.to === 2)
      .reduce((n, m) => n + m.entries.reduce((k, e) => k + e.data.byteLength, 0), 0);
    expect(bytes).toBe(300); // three messages of 100 bytes: the window closed at >= 250
  });

  it("probes a follower of unknown state with one append at a time", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(2);
    for (let i = 0; i < 5; i++) {
      c.node(1).raw.propose(data(`p${i}`));
      c.stabilize();
    }
    c.node(1).raw.reportUnreachable(2);
    for (let i = 0; i < 3; i++) c.node(1).raw.propose(data(`q${i}`));
    c.heal();
    const rd = c.process(c.node(1));
    expect(rd.messages.filter((m) => m.to === 2 && m.type === MessageType.Append).length).toBe(1);
    expect(c.node(1).raw.status().progress?.get(2)?.state).toBe("probe");
  });

  it("backtracks over a divergent follower a whole term per round trip, using the conflict hint", () => {
    // The follower holds 100 entries of term 2 that the leader does not have; the leader
    // holds 100 entries of term 3 after index 1.
    const ids = [1, 2, 3];
    const c = new SyncCluster({ ids, node: { preVote: false } });
    c.addNode(1, storageWithTerms([1, ...Array(100).fill(3)], 3));
    c.addNode(2, storageWithTerms([1, ...Array(100).fill(2)], 3));
    c.addNode(3, storageWithTerms([1, ...Array(100).fill(3)], 3));
    expect(c.elect(1)).toBe(true);
    expect(logTerms(c, 2)).toEqual(logTerms(c, 1));
    const rejections = c.delivered.get(MessageType.AppendResponse);
    // Without the hint the leader would step back one index per rejection (100 round trips).
    const appendsTo2 = c.delivered.get(MessageType.Append) ?? 0;
    expect(appendsTo2).toBeLessThan(10);
    expect(rejections).toBeLessThan(10);
  });

  it("a follower with a much shorter log is found in one round trip", () => {
    const c = new SyncCluster({ node: { preVote: false } });
    c.addNode(1, storageWithTerms(Array(200).fill(1), 1));
    c.addNode(2, storageWithTerms([1, 1], 1));
    c.addNode(3, storageWithTerms(Array(200).fill(1), 1));
    c.elect(1);
    expect(c.node(2).raw.log().lastIndex()).toBe(201);
    expect(c.delivered.get(MessageType.Append)).toBeLessThan(8);
  });
});

describe("proposals", () => {
  it("a follower that knows the leader refuses with NotLeaderError naming it", () => {
    const c = new SyncCluster();
    c.elect(1);
    const err = (() => {
      try {
        c.node(2).raw.propose(data("x"));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toMatchObject({ code: "NOT_LEADER", leaderHint: 1 });
  });

  it("with no leader known, a proposal fails with LeaderNotFoundError", () => {
    const c = new SyncCluster();
    expect(() => c.node(1).raw.propose(data("x"))).toThrow(LeaderNotFoundError);
  });

  it("the leader refuses proposals beyond maxUncommittedEntriesSize until entries apply", () => {
    const c = new SyncCluster({ node: { maxUncommittedEntriesSize: 100 } });
    c.elect(1);
    c.isolate(1);
    const leader = c.node(1).raw;
    leader.propose(new Uint8Array(60));
    leader.propose(new Uint8Array(40));
    let err: unknown;
    try {
      leader.propose(new Uint8Array(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect(err).toMatchObject({ code: "PROPOSAL_DROPPED", reason: "uncommitted-size-exceeded" });
    // Nothing was appended by the refused proposal.
    expect(leader.log().lastIndex()).toBe(3);
    c.heal();
    c.stabilize();
    expect(() => leader.propose(new Uint8Array(90))).not.toThrow();
  });

  it("one entry larger than the limit still goes through when nothing is uncommitted", () => {
    const c = new SyncCluster({ node: { maxUncommittedEntriesSize: 10 } });
    c.elect(1);
    expect(c.node(1).raw.propose(new Uint8Array(1000))).toEqual({ index: 2, term: 1 });
  });

  it("proposeBatch appends consecutive entries and reports the first index", () => {
    const c = new SyncCluster();
    c.elect(1);
    expect(c.node(1).raw.proposeBatch([data("a"), data("b"), data("c")])).toEqual({
      index: 2,
      term: 1,
    });
    c.stabilize();
    expect(c.node(3).applied.map(text)).toEqual(["a", "b", "c"]);
  });
});
