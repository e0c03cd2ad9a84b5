import { describe, expect, it } from "vitest";
import { bootstrapState } from "./bootstrap.js";
import { applyConfChangeTo } from "./conf-change.js";
import { InvalidConfChangeError, ProposalDroppedError } from "./errors.js";
import { trackerConfigFromConfState } from "./progress-tracker.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { ConfChangeTransition, ConfChangeType, type Entry, Role } from "./types.js";

const data = (s: string) => new TextEncoder().encode(s);
const text = (e: Entry) => new TextDecoder().decode(e.data);
const none = new Uint8Array(0);

const add = (nodeId: number) => ({ type: ConfChangeType.AddNode, nodeId, context: none, id: 0 });
const remove = (nodeId: number) => ({
  type: ConfChangeType.RemoveNode,
  nodeId,
  context: none,
  id: 0,
});
const addLearner = (nodeId: number) => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId,
  context: none,
  id: 0,
});

function run(c: SyncCluster, rounds = 5): void {
  for (let i = 0; i < rounds; i++) {
    c.tick();
    c.stabilize();
  }
}

describe("membership changes", () => {
  it("a member added later learns the membership by replaying the log, then votes and replicates", () => {
    const c = new SyncCluster({ bootstrap: "log" });
    c.elect(1);
    c.join(4);
    c.node(1).raw.proposeConfChange(add(4));
    c.node(1).raw.propose(data("after"));
    run(c);
    for (const id of [1, 2, 3, 4]) expect(c.node(id).confState.voters).toEqual([1, 2, 3, 4]);
    expect(c.node(4).applied.map(text)).toEqual(["after"]);
    // With four voters a commit needs three: losing two members blocks progress.
    c.crash(3);
    c.crash(4);
    c.node(1).raw.propose(data("blocked"));
    c.stabilize();
    expect(c.node(2).applied.map(text)).not.toContain("blocked");
  });

  it("a newly added member gets a grace period before check-quorum counts it as silent", () => {
    const c = new SyncCluster({ ids: [1], node: { electionTick: 10 } });
    c.elect(1);
    for (let i = 0; i < 30; i++) c.tick(1);
    c.stabilize();
    // Member 2 is added while it is not running yet: two voters, one of them silent.
    c.join(2);
    c.crash(2);
    c.node(1).raw.proposeConfChange(add(2));
    c.stabilize();
    expect(c.node(1).confState.voters).toEqual([1, 2]);
    c.tick(1);
    c.stabilize();
    expect(c.node(1).raw.role).toBe(Role.Leader);
    // Silent for a whole election timeout, it does cost the leader its quorum.
    for (let i = 0; i < 10; i++) c.tick(1);
    expect(c.node(1).raw.role).toBe(Role.Follower);
  });

  it("a removed member no longer counts toward the quorum", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.proposeConfChange(remove(3));
    run(c);
    expect(c.node(1).confState.voters).toEqual([1, 2]);
    c.crash(3);
    c.node(1).raw.propose(data("two of two"));
    c.stabilize();
    expect(c.node(2).applied.map(text)).toEqual(["two of two"]);
  });

  it("a leader that removes itself steps down once the change is applied", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.proposeConfChange(remove(1));
    run(c);
    expect(c.node(1).raw.role).toBe(Role.Follower);
    run(c, 40);
    expect([2, 3]).toContain(c.leader());
  });

  it("refuses a second change while one is not yet applied", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(1);
    c.node(1).raw.proposeConfChange(add(4));
    expect(() => c.node(1).raw.proposeConfChange(add(5))).toThrow(ProposalDroppedError);
  });

  it("a learner receives the log but never votes or campaigns", () => {
    const c = new SyncCluster({ ids: [1, 2, 3], learners: [4] });
    c.elect(1);
    c.node(1).raw.propose(data("x"));
    c.stabilize();
    expect(c.node(4).applied.map(text)).toEqual(["x"]);
    c.crash(1);
    for (let i = 0; i < 100; i++) c.tick(4);
    expect(c.node(4).raw.role).toBe(Role.Follower);
    expect(c.node(4).raw.term).toBe(1);
  });

  it("changes several voters at once through a joint configuration, left automatically", () => {
    const c = new SyncCluster({ bootstrap: "log" });
    c.elect(1);
    c.join(4);
    c.join(5);
    c.node(1).raw.proposeConfChange({
      transition: ConfChangeTransition.Auto,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: 4 },
        { type: ConfChangeType.AddNode, nodeId: 5 },
        { type: ConfChangeType.RemoveNode, nodeId: 3 },
      ],
      context: none,
    });
    // Step by step: first the joint configuration, in which decisions need a majority of
    // {1,2,3} and one of {1,2,4,5}.
    const seen: number[][] = [];
    for (let i = 0; i < 20; i++) {
      for (const n of c.nodes.values()) if (n.raw.hasReady()) c.process(n);
      c.deliverAll();
      const cs = c.node(1).raw.status().confState;
      if (cs.votersOutgoing.length > 0 && seen.length === 0)
        seen.push(cs.votersOutgoing, cs.voters);
    }
    expect(seen).toEqual([
      [1, 2, 3],
      [1, 2, 4, 5],
    ]);
    run(c);
    // Then the leader proposed the empty change that leaves it.
    const log = c.node(1).raw.log();
    const last = log.entries(log.lastIndex() - 1, log.lastIndex() + 1);
    expect(last.some((e) => e.type === 2 && e.data.byteLength === 0)).toBe(true);
    const final = c.node(1).raw.status().confState;
    expect(final).toMatchObject({ voters: [1, 2, 4, 5], votersOutgoing: [], autoLeave: false });
    for (const id of [2, 4, 5]) expect(c.node(id).confState.voters).toEqual([1, 2, 4, 5]);
  });

  it("an explicit joint configuration stays joint until an empty change leaves it", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.join(4);
    c.node(1).raw.proposeConfChange({
      transition: ConfChangeTransition.JointExplicit,
      changes: [{ type: ConfChangeType.AddNode, nodeId: 4 }],
      context: none,
    });
    run(c);
    expect(c.node(1).raw.status().confState.votersOutgoing).toEqual([1, 2, 3]);
    expect(() => c.node(1).raw.proposeConfChange(add(5))).toThrow(
      /joint configuration must be left/,
    );
    c.node(1).raw.proposeConfChange({
      transition: ConfChangeTransition.Auto,
      changes: [],
      context: none,
    });
    run(c);
    expect(c.node(1).raw.status().confState).toMatchObject({
      voters: [1, 2, 3, 4],
      votersOutgoing: [],
    });
  });

  it("adds a learner and promotes it to voter", () => {
    const c = new SyncCluster({ bootstrap: "log" });
    c.elect(1);
    c.join(4);
    c.node(1).raw.proposeConfChange(addLearner(4));
    run(c);
    expect(c.node(1).confState.learners).toEqual([4]);
    c.node(1).raw.proposeConfChange(add(4));
    run(c);
    expect(c.node(1).confState).toMatchObject({ voters: [1, 2, 3, 4], learners: [] });
  });
});

describe("configuration change rules", () => {
  const cfg = trackerConfigFromConfState({
    voters: [1, 2, 3],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  });

  it("refuses changing two voters without joint consensus", () => {
    expect(() =>
      applyConfChangeTo(cfg, {
        transition: ConfChangeTransition.Auto,
        changes: [],
        context: none,
      }),
    ).toThrow(InvalidConfChangeError);
    const two = trackerConfigFromConfState({
      voters: [1, 2],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    });
    expect(
      applyConfChangeTo(two, {
        transition: ConfChangeTransition.Auto,
        changes: [{ type: ConfChangeType.AddNode, nodeId: 3 }],
        context: none,
      }).voters.incoming.ids,
    ).toEqual([1, 2, 3]);
  });

  it("refuses removing every voter", () => {
    const one = trackerConfigFromConfState({
      voters: [1],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    });
    expect(() =>
      applyConfChangeTo(one, {
        transition: ConfChangeTransition.Auto,
        changes: [{ type: ConfChangeType.RemoveNode, nodeId: 1 }],
        context: none,
      }),
    ).toThrow(/remove every voter/);
  });

  it("demoting an outgoing voter makes it a learner only when the joint configuration is left", () => {
    const joint = applyConfChangeTo(cfg, {
      transition: ConfChangeTransition.JointImplicit,
      changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 3 }],
      context: none,
    });
    expect([...joint.learnersNext]).toEqual([3]);
    expect(joint.voters.outgoing.ids).toEqual([1, 2, 3]);
    const left = applyConfChangeTo(joint, {
      transition: ConfChangeTransition.Auto,
      changes: [],
      context: none,
    });
    expect([...left.learners]).toEqual([3]);
    expect(left.voters.incoming.ids).toEqual([1, 2]);
  });

  it("bootstrapState writes one committed change per founding member at term 1", () => {
    const b = bootstrapState([1, 2, 3]);
    expect(b.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(b.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(() => bootstrapState([1, 1])).toThrow(/distinct/);
  });
});
