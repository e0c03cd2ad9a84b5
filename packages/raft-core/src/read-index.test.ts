import { describe, expect, it } from "vitest";
import { LeaderNotFoundError, ReadIndexDroppedError } from "./errors.js";
import { MemoryStorage } from "./testing/memory-storage.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { MessageType } from "./types.js";

const ctx = (s: string) => new TextEncoder().encode(s);
const name = (c: Uint8Array) => new TextDecoder().decode(c);

describe("ReadIndex (safe mode)", () => {
  it("answers on the leader with the commit index once a quorum acknowledged a heartbeat round", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.propose(ctx("w"));
    c.stabilize();
    const leader = c.node(1);
    leader.raw.readIndex(ctx("r1"));
    // The round has started but no acknowledgement is in yet: nothing to serve.
    const rd = c.process(leader);
    expect(rd.readStates).toEqual([]);
    expect(rd.messages.filter((m) => m.type === MessageType.Heartbeat).length).toBe(2);
    c.stabilize();
    expect(leader.readStates.map((r) => [name(r.context), r.index])).toEqual([["r1", 2]]);
  });

  it("records the commit index at the time of the request, not at the time of the answer", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1);
    leader.raw.readIndex(ctx("r"));
    c.process(leader);
    leader.raw.propose(ctx("later"));
    c.stabilize();
    expect(leader.readStates[0]?.index).toBe(1);
  });

  it("serves every request made before a round starts with that one round", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1);
    for (let i = 0; i < 10; i++) leader.raw.readIndex(ctx(`r${i}`));
    const before = c.delivered.get(MessageType.Heartbeat) ?? 0;
    c.stabilize();
    expect(leader.readStates.length).toBe(10);
    expect((c.delivered.get(MessageType.Heartbeat) ?? 0) - before).toBe(2);
  });

  it("requests that arrive while a round is in flight share the next round", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1);
    leader.raw.readIndex(ctx("a"));
    c.process(leader); // round 1 sent
    for (let i = 0; i < 5; i++) leader.raw.readIndex(ctx(`b${i}`));
    c.process(leader); // round 2 sent, for all five
    const heartbeats = c.queued().filter((m) => m.type === MessageType.Heartbeat);
    expect(heartbeats.length).toBe(4);
    c.stabilize();
    expect(leader.readStates.map((r) => name(r.context))).toEqual([
      "a",
      "b0",
      "b1",
      "b2",
      "b3",
      "b4",
    ]);
  });

  it("a later round acknowledged by a quorum also releases requests of an earlier round", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1);
    leader.raw.readIndex(ctx("a"));
    c.process(leader);
    c.dropQueued(); // round 1 is lost
    leader.raw.readIndex(ctx("b"));
    c.stabilize();
    expect(leader.readStates.map((r) => name(r.context))).toEqual(["a", "b"]);
  });

  it("a follower's request is forwarded to the leader and answered with the leader's read index", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.propose(ctx("w"));
    c.stabilize();
    c.node(3).raw.readIndex(ctx("f"));
    c.stabilize();
    expect(c.node(3).readStates.map((r) => [name(r.context), r.index])).toEqual([["f", 2]]);
    expect(c.node(1).readStates).toEqual([]);
  });

  it("a member with no known leader refuses with LeaderNotFoundError", () => {
    const c = new SyncCluster();
    expect(() => c.node(2).raw.readIndex(ctx("x"))).toThrow(LeaderNotFoundError);
  });

  it("a new leader answers no read until an entry of its own term is committed", () => {
    let holdAppends = false;
    const c = new SyncCluster({
      node: { preVote: false, checkQuorum: false },
      filter: (m) => !(holdAppends && m.from === 2 && m.type === MessageType.Append),
    });
    c.elect(1);
    c.node(1).raw.propose(ctx("w"));
    c.stabilize();
    // Member 2 wins term 2, but its empty entry of term 2 reaches nobody yet.
    holdAppends = true;
    expect(c.elect(2)).toBe(true);
    const newLeader = c.node(2);
    newLeader.raw.readIndex(ctx("early"));
    c.stabilize();
    expect(newLeader.readStates).toEqual([]);
    expect(newLeader.raw.log().committed).toBe(2);
    // Once its entry of term 2 commits, the deferred request is served with a safe index.
    holdAppends = false;
    newLeader.raw.readIndex(ctx("late"));
    for (let i = 0; i < 3; i++) {
      c.tick(2);
      c.stabilize();
    }
    expect(newLeader.raw.log().committed).toBe(3);
    expect(newLeader.readStates.map((r) => [name(r.context), r.index])).toEqual([
      ["early", 3],
      ["late", 3],
    ]);
  });

  it("a leader cut off from its quorum answers no read", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(1);
    c.node(1).raw.readIndex(ctx("stale"));
    for (let i = 0; i < 5; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).readStates).toEqual([]);
  });

  it("a single-member cluster answers at once", () => {
    const c = new SyncCluster({ ids: [1] });
    c.elect(1);
    c.node(1).raw.readIndex(ctx("solo"));
    c.stabilize();
    expect(c.node(1).readStates.map((r) => r.index)).toEqual([1]);
  });

  it("refuses a local request with ReadIndexDroppedError when maxPendingReadIndex are waiting", () => {
    const c = new SyncCluster({ node: { maxPendingReadIndex: 3 } });
    c.elect(1);
    c.isolate(1);
    for (let i = 0; i < 3; i++) c.node(1).raw.readIndex(ctx(`r${i}`));
    expect(() => c.node(1).raw.readIndex(ctx("one too many"))).toThrow(ReadIndexDroppedError);
  });

  it("works after a restart from storage", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.crash(1);
    const restarted = c.restart(1);
    expect(restarted.storage).toBeInstanceOf(MemoryStorage);
    for (let i = 0; i < 30 && c.leader() === 0; i++) {
      c.tick();
      c.stabilize();
    }
    const leader = c.node(c.leader());
    leader.raw.readIndex(ctx("after"));
    c.stabilize();
    expect(leader.readStates.map((r) => name(r.context))).toEqual(["after"]);
  });
});
