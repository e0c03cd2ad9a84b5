import {
  createRaftNode,
  type Entry,
  LeaderNotFoundError,
  type RaftNode,
  type SnapshotMetadata,
  type StateMachine,
  TimeoutError,
} from "@raftkv/raft-core";
import { MemoryLogStore, MemoryNetwork } from "@raftkv/raft-core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { SessionReadTimeoutError } from "./errors.js";
import { ReadBarrier } from "./read-barrier.js";

/** Counts applied normal entries: its "position" is that count. */
class Counter implements StateMachine<number> {
  count = 0;
  appliedIndex(): number {
    return 0;
  }
  apply(entries: readonly Entry[]): number[] {
    return entries.map((e) => (e.type === 0 && e.data.length > 0 ? ++this.count : this.count));
  }
  async *snapshot(): AsyncIterable<Uint8Array> {
    yield Uint8Array.of(this.count);
  }
  async restore(_meta: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const c of data) this.count = c[0] ?? 0;
  }
}

const nodes: RaftNode<number>[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
});

async function cluster(net: MemoryNetwork) {
  const machines = new Map<number, Counter>();
  for (const id of [1, 2, 3]) {
    const sm = new Counter();
    machines.set(id, sm);
    nodes.push(
      await createRaftNode({
        id,
        logStore: new MemoryLogStore(),
        transport: net.transport(id),
        stateMachine: sm,
        peers: [1, 2, 3],
        tickMs: 10,
        electionTick: 10,
        snapshotEntries: 0,
      }),
    );
  }
  for (;;) {
    const leader = nodes.find((n) => n.isLeader);
    if (leader && nodes.every((n) => n.leader === leader.id)) return { leader, machines };
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("ReadBarrier", () => {
  it("makes a follower's linearizable read see a write the leader acknowledged", async () => {
    const net = new MemoryNetwork();
    const { leader, machines } = await cluster(net);
    const follower = nodes.find((n) => n !== leader)!;
    // Slow the leader→follower link so the follower has not applied the write yet.
    net.setFaults({ minDelayMs: 150, maxDelayMs: 150 }, leader.id, follower.id);
    const written = await leader.propose(Uint8Array.of(1));
    const barrier = new ReadBarrier({
      raft: follower,
      position: () => machines.get(follower.id)!.count,
    });
    await barrier.wait("linearizable", { timeoutMs: 10_000 });
    expect(machines.get(follower.id)!.count).toBeGreaterThanOrEqual(written);
  });

  it("serves serializable reads at once, even when cut off", async () => {
    const net = new MemoryNetwork();
    const { machines } = await cluster(net);
    const node = nodes[0]!;
    net.isolate(node.id);
    const barrier = new ReadBarrier({ raft: node, position: () => machines.get(node.id)!.count });
    await barrier.wait("serializable", { timeoutMs: 1 });
  });

  it("refuses a linearizable read on a member cut off from the others", async () => {
    const net = new MemoryNetwork();
    const { leader, machines } = await cluster(net);
    const follower = nodes.find((n) => n !== leader)!;
    net.isolate(follower.id);
    const barrier = new ReadBarrier({
      raft: follower,
      position: () => machines.get(follower.id)!.count,
    });
    const error = await barrier.wait("linearizable", { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error, String(error)).toSatisfy(
      (e: unknown) => e instanceof TimeoutError || e instanceof LeaderNotFoundError,
    );
  });

  it("holds a session read until this member reaches the client's position, or gives up", async () => {
    const net = new MemoryNetwork();
    const { leader, machines } = await cluster(net);
    const follower = nodes.find((n) => n !== leader)!;
    const sm = machines.get(follower.id)!;
    const barrier = new ReadBarrier({ raft: follower, position: () => sm.count });
    net.setFaults({ minDelayMs: 100, maxDelayMs: 100 }, leader.id, follower.id);
    const seen = await leader.propose(Uint8Array.of(1));
    const read = barrier.wait("session", { timeoutMs: 10_000, minPosition: seen });
    for (;;) {
      barrier.advanced();
      if (sm.count >= seen) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await read;
    const tooFar = await barrier
      .wait("session", { timeoutMs: 30, minPosition: seen + 100 })
      .catch((e: unknown) => e);
    expect(tooFar).toBeInstanceOf(SessionReadTimeoutError);
  });
});
