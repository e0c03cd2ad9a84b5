import { describe, expect, it } from "vitest";
import { SyncCluster } from "./testing/sync-cluster.js";

describe("smoke", () => {
  it("elects and replicates", () => {
    const c = new SyncCluster();
    expect(c.elect(1)).toBe(true);
    const leader = c.node(1);
    const pos = leader.raw.propose(new TextEncoder().encode("hello"));
    c.stabilize();
    for (const n of c.nodes.values()) {
      expect(n.applied.map((e) => new TextDecoder().decode(e.data))).toEqual(["hello"]);
    }
    expect(pos.index).toBe(2);
  });
});
