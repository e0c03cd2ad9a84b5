import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  AbortError,
  LeaderNotFoundError,
  NotLeaderError,
  ProposalDroppedError,
  ReadIndexDroppedError,
  SnapshotError,
  StoppedError,
  StorageError,
  TimeoutError,
} from "./errors.js";
import { createRaftNode, type RaftNode, type RaftNodeOptions } from "./raft-node.js";
import type { StateMachine } from "./state-machine.js";
import { MemoryLogStore } from "./testing/memory-log-store.js";
import { MemoryNetwork } from "./testing/memory-network.js";
import { ConfChangeType, type Entry, EntryType, type SnapshotMetadata } from "./types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Applies strings; returns "applied <s> at <index>". Durable if asked (kept across restarts). */
class TestStateMachine implements StateMachine<string | undefined> {
  applied = 0;
  values: string[] = [];
  constructor(readonly durable = false) {}
  appliedIndex(): number {
    return this.durable ? this.applied : 0;
  }
  apply(entries: readonly Entry[]): Array<string | undefined> | Promise<Array<string | undefined>> {
    return entries.map((e) => {
      this.applied = e.index;
      if (e.type !== EntryType.Normal || e.data.byteLength === 0) return undefined;
      const v = dec.decode(e.data);
      this.values.push(v);
      return `applied ${v} at ${e.index}`;
    });
  }
  snapshot(): AsyncIterable<Uint8Array> {
    // Captured now: later applies must not change what the snapshot yields.
    const bytes = enc.encode(JSON.stringify(this.values));
    return (async function* () {
      yield bytes.subarray(0, 3);
      yield bytes.subarray(3);
    })();
  }
  async restore(meta: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const c of data) parts.push(c);
    this.values = JSON.parse(dec.decode(Buffer.concat(parts)));
    this.applied = meta.index;
  }
}

interface Member {
  id: number;
  node: RaftNode<string | undefined>;
  store: MemoryLogStore;
  sm: TestStateMachine;
}

let members: Member[] = [];

afterEach(async () => {
  for (const m of members) await m.node.close();
  members = [];
});

async function waitFor<T>(f: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = { tickMs: 10, electionTick: 10, heartbeatTick: 1 };

async function start(
  net: MemoryNetwork,
  id: number,
  extra: Partial<RaftNodeOptions<string | undefined>> = {},
  store = new MemoryLogStore(),
  sm = new TestStateMachine(),
): Promise<Member> {
  const node = await createRaftNode<string | undefined>({
    id,
    logStore: store,
    transport: net.transport(id),
    stateMachine: sm,
    peers: [1, 2, 3],
    ...fast,
    ...extra,
  });
  const m = { id, node, store, sm };
  members = members.filter((x) => x.id !== id);
  members.push(m);
  return m;
}

async function cluster(
  extra: Partial<RaftNodeOptions<string | undefined>> = {},
  smDurable = false,
) {
  const net = new MemoryNetwork();
  for (const id of [1, 2, 3])
    await start(net, id, extra, new MemoryLogStore(), new TestStateMachine(smDurable));
  const leader = await waitFor(() => members.find((m) => m.node.isLeader));
  return { net, leader };
}

/** A state machine whose applies wait until the test opens the gate. */
class GatedStateMachine extends TestStateMachine {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};
  close(): void {
    this.gate = new Promise((r) => {
      this.openGate = r;
    });
  }
  open(): void {
    this.openGate();
  }
  override async apply(entries: readonly Entry[]): Promise<Array<string | undefined>> {
    await this.gate;
    return super.apply(entries);
  }
}

/** A log store whose saves that only move the commit index wait for the test. */
/** Records every save: whether it carried entries, was synced, and the commit it wrote. */
class RecordingSaves extends MemoryLogStore {
  recorded: Array<{ entries: number; sync: boolean; commit: number | undefined }> = [];
  override save(...args: Parameters<MemoryLogStore["save"]>): Promise<void> {
    const [hardState, entries, options] = args;
    this.recorded.push({ entries: entries.length, sync: options.sync, commit: hardState?.commit });
    return super.save(...args);
  }
}

describe("RaftNode", () => {
  it("writes a commit-only hard state with the next save instead of on its own, and on close", async () => {
    const net = new MemoryNetwork();
    const stores = [1, 2, 3].map(() => new RecordingSaves());
    for (const id of [1, 2, 3]) await start(net, id, {}, stores[id - 1]!, new TestStateMachine());
    const leader = await waitFor(() => members.find((m) => m.node.isLeader));
    for (let i = 0; i < 5; i++) {
      expect(await leader.node.propose(enc.encode(`c${i}`))).toMatch(/^applied c/);
    }
    await waitFor(() => members.every((m) => m.sm.values.includes("c4")));
    for (const store of stores) {
      // Every save carries entries or a term/vote change, and is synced.
      expect(store.recorded.filter((x) => !x.sync)).toEqual([]);
      // The commit index still reaches the disk, carried by later saves.
      expect(Math.max(...store.recorded.map((x) => x.commit ?? 0))).toBeGreaterThan(1);
    }
    const commits = members.map((m) => m.node.status().commit);
    for (const m of members) await m.node.close();
    // Every member's last save holds its final commit index; the leader learned it from
    // acknowledgements alone, so only close wrote it.
    expect(members.map((m) => stores[m.id - 1]!.recorded.at(-1)!.commit)).toEqual(commits);
    expect(stores[leader.id - 1]!.recorded.at(-1)).toEqual({
      entries: 0,
      sync: false,
      commit: leader.node.status().commit,
    });
  });

  it("keeps saving and committing while the state machine is slow: applying runs beside the Ready loop", async () => {
    const net = new MemoryNetwork();
    const machines = new Map<number, GatedStateMachine>();
    for (const id of [1, 2, 3]) {
      const sm = new GatedStateMachine();
      machines.set(id, sm);
      await start(net, id, {}, new MemoryLogStore(), sm);
    }
    const leader = await waitFor(() => members.find((m) => m.node.isLeader));
    await leader.node.propose(enc.encode("warm-up"));
    const gated = machines.get(leader.id)!;
    gated.close();
    const applied = leader.node.status().appliedIndex;
    const x = leader.node.propose(enc.encode("x"));
    await waitFor(() => leader.node.status().commit > applied);
    // The leader cannot apply x, yet it must still save, replicate and commit y.
    const y = leader.node.propose(enc.encode("y"));
    await waitFor(() => leader.node.status().commit >= applied + 2);
    expect(leader.node.status().appliedIndex).toBe(applied);
    expect(gated.values).not.toContain("x");
    gated.open();
    expect([(await x)?.split(" ")[1], (await y)?.split(" ")[1]]).toEqual(["x", "y"]);
    expect(gated.values.slice(-2)).toEqual(["x", "y"]);
  });

  it("elects a leader; propose resolves with the state machine's result once applied everywhere", async () => {
    const { leader } = await cluster();
    const result = await leader.node.propose(enc.encode("hello"));
    expect(result).toMatch(/^applied hello at \d+$/);
    await waitFor(() => members.every((m) => m.sm.values.includes("hello")));
  });

  it("proposeBatch gives one result per entry, in order", async () => {
    const { leader } = await cluster();
    const results = await Promise.all(
      leader.node.proposeBatch(["a", "b", "c"].map((s) => enc.encode(s))),
    );
    expect(results.map((r) => r?.split(" ")[1])).toEqual(["a", "b", "c"]);
  });

  it("a follower refuses a proposal with NotLeaderError naming the leader", async () => {
    const { leader } = await cluster();
    const follower = members.find((m) => m !== leader)!;
    await waitFor(() => follower.node.leader === leader.id);
    const err = await follower.node.propose(enc.encode("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leaderHint).toBe(leader.id);
  });

  it("refuses a proposal with LeaderNotFoundError before any leader is known", async () => {
    const net = new MemoryNetwork();
    const m = await start(net, 1, { tickMs: 60_000 });
    await expect(m.node.propose(enc.encode("x"))).rejects.toBeInstanceOf(LeaderNotFoundError);
  });

  it("an aborted proposal rejects with AbortError carrying the reason (the outcome stays unknown)", async () => {
    const { net, leader } = await cluster();
    net.isolate(leader.id);
    const ac = new AbortController();
    const p = leader.node.propose(enc.encode("stuck"), { signal: ac.signal });
    ac.abort(new Error("caller gave up"));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toMatchObject({ message: "caller gave up" });
    await expect(
      leader.node.propose(enc.encode("x"), { signal: ac.signal }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it("a proposal that cannot commit in time rejects with TimeoutError", async () => {
    const { net, leader } = await cluster();
    net.isolate(leader.id);
    await expect(
      leader.node.propose(enc.encode("stuck"), { timeoutMs: 50 }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });

  it("close rejects waiting proposals and every later call with StoppedError", async () => {
    const { net, leader } = await cluster();
    net.isolate(leader.id);
    const p = leader.node.propose(enc.encode("stuck"));
    await leader.node.close();
    await expect(p).rejects.toBeInstanceOf(StoppedError);
    await expect(leader.node.propose(enc.encode("x"))).rejects.toBeInstanceOf(StoppedError);
    await expect(leader.node.readIndex()).rejects.toBeInstanceOf(StoppedError);
  });

  it("a proposal overwritten by a new leader rejects with ProposalDroppedError", async () => {
    const { net, leader } = await cluster();
    await leader.node.propose(enc.encode("first"));
    net.isolate(leader.id);
    const lost = leader.node.propose(enc.encode("lost"));
    const others = members.filter((m) => m !== leader);
    const next = await waitFor(() => others.find((m) => m.node.isLeader));
    await next.node.propose(enc.encode("winner"));
    net.heal();
    const err = await lost.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect(err).toMatchObject({ reason: "overwritten" });
    await waitFor(() => leader.sm.values.includes("winner"));
    expect(leader.sm.values).not.toContain("lost");
  });

  it("readIndex resolves on leader and followers once they have applied the read index", async () => {
    const { leader } = await cluster();
    await leader.node.propose(enc.encode("w"));
    for (const m of members) {
      await waitFor(() => m.node.leader !== 0);
      const index = await m.node.readIndex({ timeoutMs: 10_000 });
      expect(index).toBeGreaterThanOrEqual(2);
      expect(m.node.status().appliedIndex).toBeGreaterThanOrEqual(index);
      expect(m.sm.values).toContain("w");
    }
  });

  it("a read whose leader changes before it is answered fails fast with ReadIndexDroppedError", async () => {
    const { net, leader } = await cluster();
    const follower = members.find((m) => m !== leader)!;
    await waitFor(() => follower.node.leader === leader.id);
    net.cut(follower.id, leader.id); // the forwarded request is lost
    const read = follower.node.readIndex({ timeoutMs: 30_000 });
    net.isolate(leader.id);
    const err = await read.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadIndexDroppedError);
    expect(follower.node.leader).not.toBe(leader.id);
  });

  it("a restarted member recovers from its log store and catches up", async () => {
    const { net, leader } = await cluster();
    await leader.node.propose(enc.encode("before"));
    const victim = members.find((m) => m !== leader)!;
    await victim.node.close();
    const store = victim.store.crash();
    await leader.node.propose(enc.encode("while down"));
    const back = await start(net, victim.id, {}, store, new TestStateMachine());
    await waitFor(() => back.sm.values.includes("while down"));
    expect(back.sm.values).toEqual(["before", "while down"]);
  });

  it("recovers when a crash left the state machine ahead of the log (snapshot install interrupted)", async () => {
    const { net, leader } = await cluster({ snapshotEntries: 10, compactionKeepEntries: 2 }, true);
    const victim = members.find((m) => m !== leader)!;
    net.isolate(victim.id);
    for (let i = 0; i < 30; i++) await leader.node.propose(enc.encode(`v${i}`));
    expect(leader.store.firstIndex()).toBeGreaterThan(2);
    // The victim will restore its state machine from the leader's snapshot, then fail to
    // record the snapshot in its log store: as if it crashed between the two.
    victim.store.failNextSaves(1);
    net.heal();
    await waitFor(() => victim.sm.values.includes("v29"));
    await waitFor(() => victim.node.isStopped);
    expect(victim.node.stopError).toBeInstanceOf(SnapshotError);
    await victim.node.close();
    const store = victim.store.crash();
    expect(store.snapshotMetadata().index).toBe(0);
    expect(victim.sm.applied).toBeGreaterThan(store.lastIndex());
    await leader.node.propose(enc.encode("later"));
    const back = await start(net, victim.id, {}, store, victim.sm);
    await waitFor(() => back.sm.values.includes("later"));
    expect(back.sm.values).toEqual([...Array.from({ length: 30 }, (_, i) => `v${i}`), "later"]);
    await waitFor(() => back.store.lastIndex() === leader.store.lastIndex());
  });

  it("a storage failure stops the node: waiting proposals reject with StoppedError caused by it", async () => {
    const { leader } = await cluster();
    leader.store.failNextSaves(1);
    const err = await leader.node.propose(enc.encode("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoppedError);
    expect((err as StoppedError).cause).toBeInstanceOf(StorageError);
  });

  it("a member that fell behind a compacted log catches up through a streamed snapshot", async () => {
    const { net, leader } = await cluster({ snapshotEntries: 20, compactionKeepEntries: 5 }, true);
    const behind = members.find((m) => m !== leader)!;
    net.isolate(behind.id);
    for (let i = 0; i < 60; i++) await leader.node.propose(enc.encode(`v${i}`));
    expect(leader.store.firstIndex()).toBeGreaterThan(20);
    net.heal();
    await waitFor(() => behind.sm.values.includes("v59"));
    expect(behind.sm.values).toEqual(leader.sm.values);
    expect(behind.store.snapshotMetadata().index).toBeGreaterThan(0);
  });

  it("proposals made while a save is in flight are saved and sent together", async () => {
    const { leader } = await cluster();
    const before = leader.store.saves;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => leader.node.propose(enc.encode(`p${i}`))),
    );
    expect(leader.store.saves - before).toBeLessThan(100);
  });

  it("adds a member with proposeConfChange; the new member learns everything from the log", async () => {
    const { net, leader } = await cluster();
    await leader.node.propose(enc.encode("old"));
    const joiner = await start(net, 4, { join: true, peers: undefined });
    const cs = await leader.node.proposeConfChange({
      type: ConfChangeType.AddNode,
      nodeId: 4,
      context: new Uint8Array(),
      id: 1,
    });
    expect(cs.voters).toEqual([1, 2, 3, 4]);
    await waitFor(() => joiner.sm.values.includes("old"));
    expect(joiner.node.status().confState.voters).toEqual([1, 2, 3, 4]);
  });

  it("exports metrics to a prom-client registry", async () => {
    const registry = new Registry();
    const { leader } = await cluster({ registry });
    await leader.node.propose(enc.encode("m"));
    const text = await registry.metrics();
    expect(text).toContain(`raft_is_leader{member="${leader.id}"} 1`);
    expect(text).toMatch(/raft_proposals_total\{member="\d",result="applied"\} 1/);
  });

  it("refuses to start a new member without peers or join", async () => {
    await expect(
      createRaftNode({
        id: 1,
        logStore: new MemoryLogStore(),
        transport: new MemoryNetwork().transport(1),
        stateMachine: new TestStateMachine(),
      }),
    ).rejects.toThrow(/needs `peers`/);
  });
});
