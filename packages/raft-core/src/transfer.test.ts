import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { MessageType, Role } from "./types.js";

const data = (s: string) => new TextEncoder().encode(s);

describe("leadership transfer", () => {
  it("hands leadership to an up-to-date follower, which campaigns at once without pre-vote", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.transferLeadership(3);
    c.stabilize();
    expect(c.leader()).toBe(3);
    expect(c.node(3).raw.term).toBe(2);
    expect(c.delivered.get(MessageType.TimeoutNow)).toBe(1);
  });

  it("brings a lagging transferee up to date first", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(data(`p${i}`));
    c.stabilize();
    c.heal();
    c.node(1).raw.transferLeadership(3);
    for (let i = 0; i < 5 && c.leader() !== 3; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.leader()).toBe(3);
    expect(c.node(3).raw.log().committed).toBeGreaterThanOrEqual(6);
  });

  it("refuses proposals while a transfer is in progress", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(3);
    c.node(1).raw.transferLeadership(3);
    expect(() => c.node(1).raw.propose(data("x"))).toThrow(ProposalDroppedError);
  });

  it("abandons a transfer that does not finish within an election timeout", () => {
    const c = new SyncCluster({ node: { electionTick: 10 } });
    c.elect(1);
    c.isolate(3);
    c.node(1).raw.transferLeadership(3);
    expect(c.node(1).raw.status().leadTransferee).toBe(3);
    for (let i = 0; i < 10; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raw.status().leadTransferee).toBe(0);
    expect(c.node(1).raw.role).toBe(Role.Leader);
    expect(() => c.node(1).raw.propose(data("x"))).not.toThrow();
  });

  it("a follower's request is forwarded to the leader", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(2).raw.transferLeadership(2);
    c.stabilize();
    expect(c.leader()).toBe(2);
  });
});
