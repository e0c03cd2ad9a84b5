import { describe, expect, it } from "vitest";
import { IllegalStateError, InvalidConfigError, InvalidMessageError } from "./errors.js";
import { RawNode } from "./raw-node.js";
import { isReadyEmpty } from "./ready.js";
import { MemoryStorage } from "./testing/memory-storage.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { EntryType, type Message, MessageType, Role } from "./types.js";

const conf = {
  voters: [1, 2, 3],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};
const fresh = () => new RawNode({ id: 1, storage: new MemoryStorage(), confState: conf });

function msg(partial: Partial<Message>): Message {
  return {
    type: MessageType.Heartbeat,
    to: 1,
    from: 2,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...partial,
  } as Message;
}

describe("RawNode API", () => {
  it.each([
    [{ id: 0 }, /id must be a positive/],
    [{ id: 1.5 }, /id must be a positive/],
    [
      { electionTick: 1, heartbeatTick: 1 },
      /electionTick \(1\) must be greater than heartbeatTick/,
    ],
    [{ maxInflightMsgs: 0 }, /maxInflightMsgs must be a positive integer/],
    [{ applied: 10 }, /applied \(10\) is beyond the commit index/],
    [{ hardState: { term: -1, vote: 0, commit: 0 } }, /hardState.term/],
    [
      { hardState: { term: 1, vote: 0, commit: 5 } },
      /applied|commit 5 is beyond the last log index/,
    ],
    [{ confState: { ...conf, learners: [2] } }, /both voter and learner/],
    [{ confState: { ...conf, voters: [0] } }, /invalid member id 0/],
  ])("refuses an invalid option %o with InvalidConfigError", (opts, message) => {
    expect(
      () => new RawNode({ id: 1, storage: new MemoryStorage(), confState: conf, ...opts }),
    ).toThrow(InvalidConfigError);
    expect(
      () => new RawNode({ id: 1, storage: new MemoryStorage(), confState: conf, ...opts }),
    ).toThrow(message);
  });

  it.each([
    ["an unknown message type", { type: 99 }],
    ["a local-only type", { type: 0 }],
    ["no sender", { from: 0 }],
    ["another recipient", { to: 7 }],
    ["a negative term", { term: -1 }],
    ["a fractional index", { index: 1.5 }],
    [
      "non-contiguous entries",
      {
        type: MessageType.Append,
        index: 0,
        entries: [
          { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array() },
          { index: 3, term: 1, type: EntryType.Normal, data: new Uint8Array() },
        ],
      },
    ],
    [
      "an entry from a future term",
      {
        type: MessageType.Append,
        entries: [{ index: 1, term: 5, type: EntryType.Normal, data: new Uint8Array() }],
      },
    ],
    ["a snapshot message without metadata", { type: MessageType.Snapshot }],
  ])("step refuses %s with InvalidMessageError, changing nothing", (_, partial) => {
    const n = fresh();
    expect(() => n.step(msg(partial as Partial<Message>))).toThrow(InvalidMessageError);
    expect(n.term).toBe(0);
    expect(n.hasReady()).toBe(false);
  });

  it("ignores responses from members outside the configuration", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1).raw;
    leader.step(msg({ type: MessageType.AppendResponse, from: 9, to: 1, term: 1, index: 100 }));
    expect(leader.status().progress?.has(9)).toBe(false);
  });

  it("ready() twice without advance() is refused with IllegalStateError, as is advancing another Ready", () => {
    const n = fresh();
    n.campaign();
    const rd = n.ready();
    expect(() => n.ready()).toThrow(IllegalStateError);
    expect(() => n.advance({ ...rd })).toThrow(IllegalStateError);
    n.advance(rd);
    expect(() => n.advance(rd)).toThrow(IllegalStateError);
  });

  it("has no Ready when idle, and an empty-looking Ready is recognized", () => {
    const n = fresh();
    expect(n.hasReady()).toBe(false);
    const rd = n.ready();
    expect(isReadyEmpty(rd)).toBe(true);
    n.advance(rd);
  });

  it("reports the role and leader change as soft state, once", () => {
    const c = new SyncCluster();
    const n = c.node(1).raw;
    n.campaign();
    const rd = n.ready();
    expect(rd.softState).toEqual({ leader: 0, role: Role.PreCandidate });
    n.advance(rd);
    const rd2 = n.ready();
    expect(rd2.softState).toBeUndefined();
    n.advance(rd2);
  });

  it("a commit-only change need not be synced; a term, vote or entry change must be", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.propose(new Uint8Array([1]));
    const leader = c.node(1);
    const rd1 = c.process(leader);
    expect(rd1.mustSync).toBe(true);
    c.deliverAll();
    c.process(c.node(2));
    c.deliverAll();
    // The acknowledgement moved only the commit index.
    const rd2 = leader.raw.ready();
    expect(rd2.hardState?.commit).toBe(2);
    expect(rd2.entries).toEqual([]);
    expect(rd2.mustSync).toBe(false);
    leader.raw.advance(rd2);
  });

  it("groups the messages of one Ready by destination, keeping each destination's order", () => {
    const c = new SyncCluster();
    c.elect(1);
    const leader = c.node(1).raw;
    leader.propose(new Uint8Array([1]));
    leader.tick();
    leader.readIndex(new Uint8Array([7]));
    const rd = leader.ready();
    const order = rd.messages.map((m) => m.to);
    expect(order).toEqual([...order].sort());
  });

  it("status shows every member's progress on the leader only", () => {
    const c = new SyncCluster();
    c.elect(1);
    const st = c.node(1).raw.status();
    expect(st).toMatchObject({
      id: 1,
      role: Role.Leader,
      lead: 1,
      term: 1,
      commit: 1,
      lastIndex: 1,
    });
    expect([...(st.progress?.keys() ?? [])].sort()).toEqual([1, 2, 3]);
    expect(st.progress?.get(2)).toMatchObject({ match: 1, next: 2, state: "replicate" });
    expect(c.node(2).raw.status().progress).toBeUndefined();
  });

  it("restarts from saved state and keeps its term and vote", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.crash(2);
    const n = c.restart(2);
    expect(n.raw.term).toBe(1);
    expect(n.raw.hardState()).toMatchObject({ term: 1, vote: 1 });
  });
});
