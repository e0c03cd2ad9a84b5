import { describe, expect, it } from "vitest";
import type { Ready } from "./ready.js";
import { SyncCluster } from "./testing/sync-cluster.js";
import { type Entry, MessageType } from "./types.js";

const data = (s: string) => new TextEncoder().encode(s);
const text = (e: Entry) => new TextDecoder().decode(e.data);

describe("snapshots", () => {
  it("a follower whose next entries were compacted gets a snapshot, then replication resumes", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 10; i++) {
      c.node(1).raw.propose(data(`p${i}`));
      c.stabilize();
    }
    c.compact(1);
    expect(c.node(1).raw.log().firstIndex()).toBe(12);
    c.heal();
    c.tick(1);
    c.stabilize();
    expect(c.delivered.get(MessageType.Snapshot)).toBe(1);
    const f = c.node(3);
    expect(f.storage.snapshotMetadata()).toMatchObject({ index: 11, term: 1 });
    expect(f.applied.map(text)).toEqual(c.node(1).applied.map(text));
    c.node(1).raw.propose(data("after"));
    c.stabilize();
    expect(f.applied.map(text).at(-1)).toBe("after");
    expect(c.node(1).raw.status().progress?.get(3)?.state).toBe("replicate");
  });

  it("the Ready carrying a snapshot has it, with its membership, and no entries to apply from before it", () => {
    const readies: Ready[] = [];
    const c = new SyncCluster({ onReady: (n, rd) => n.id === 3 && readies.push(rd) });
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(data(`p${i}`));
    c.stabilize();
    c.compact(1);
    c.heal();
    readies.length = 0;
    c.tick(1);
    c.stabilize();
    const rd = readies.find((r) => r.snapshot !== undefined);
    expect(rd?.snapshot).toMatchObject({ index: 6, term: 1, confState: { voters: [1, 2, 3] } });
    expect(rd?.committedEntries).toEqual([]);
    expect(rd?.mustSync).toBe(true);
    expect(rd?.hardState?.commit).toBe(6);
  });

  it("a follower that already holds the snapshot's last entry just commits up to it", () => {
    const c = new SyncCluster();
    c.elect(1);
    c.node(1).raw.propose(data("a"));
    c.stabilize();
    const f = c.node(2).raw;
    f.step({
      type: MessageType.Snapshot,
      from: 1,
      to: 2,
      term: 1,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      snapshot: {
        index: 2,
        term: 1,
        confState: {
          voters: [1, 2, 3],
          learners: [],
          votersOutgoing: [],
          learnersNext: [],
          autoLeave: false,
        },
      },
    });
    const rd = f.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.messagesAfterSave[0]).toMatchObject({ type: MessageType.AppendResponse, index: 2 });
  });

  it("a failed snapshot transfer is retried after the follower answers a heartbeat", () => {
    let failures = 0;
    const c = new SyncCluster({
      filter: (m) => {
        if (m.type !== MessageType.Snapshot || failures > 0) return true;
        // The first transfer fails, and the transport says so.
        failures++;
        c.node(1).raw.reportSnapshot(m.to, false);
        return false;
      },
    });
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(data(`p${i}`));
    c.stabilize();
    c.compact(1);
    c.heal();
    for (let i = 0; i < 6; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(failures).toBe(1);
    expect(c.delivered.get(MessageType.Snapshot)).toBe(1);
    expect(c.node(3).storage.snapshotMetadata().index).toBe(6);
  });

  it("a restarted member resumes from its snapshot and re-applies only what follows it", () => {
    const c = new SyncCluster();
    c.elect(1);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(data(`p${i}`));
    c.stabilize();
    c.compact(2, 4);
    c.node(1).raw.propose(data("more"));
    c.stabilize();
    c.crash(2);
    const n = c.restart(2);
    expect(n.appliedIndex).toBe(4);
    c.tick(1);
    c.stabilize();
    expect(n.applied.map(text)).toEqual(["p0", "p1", "p2", "p3", "p4", "more"]);
  });
});
