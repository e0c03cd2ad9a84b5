import {
  createRaftNode,
  type Entry,
  EntryType,
  type RaftNode,
  type SnapshotMetadata,
  type StateMachine,
} from "@raftkv/raft-core";
import { MemoryLogStore } from "@raftkv/raft-core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createPeerTransport, type PeerTransport } from "./peer-transport.js";
import { eventually } from "./test-support/recording-handler.js";

const CLUSTER = 0x5eedn;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keeps every applied value; its state survives a restart of the member (durable). */
class ListStateMachine implements StateMachine<number> {
  applied = 0;
  values: string[] = [];
  appliedIndex(): number {
    return this.applied;
  }
  apply(entries: readonly Entry[]): number[] {
    return entries.map((e) => {
      this.applied = e.index;
      if (e.type === EntryType.Normal && e.data.length > 0)
        this.values.push(decoder.decode(e.data));
      return e.index;
    });
  }
  snapshot(): AsyncIterable<Uint8Array> {
    const bytes = encoder.encode(JSON.stringify(this.values));
    return (async function* () {
      // Several chunks, so the transfer is really streamed.
      for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
    })();
  }
  async restore(meta: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const part of data) parts.push(part);
    this.values = JSON.parse(decoder.decode(Buffer.concat(parts)));
    this.applied = meta.index;
  }
}

interface Member {
  id: number;
  transport: PeerTransport;
  node: RaftNode<number>;
  store: MemoryLogStore;
  sm: ListStateMachine;
  url: string;
}

const members = new Map<number, Member>();
afterEach(async () => {
  for (const m of members.values()) {
    await m.node.close();
    await m.transport.close();
  }
  members.clear();
});

const raftOptions = {
  tickMs: 20,
  electionTick: 10,
  heartbeatTick: 1,
  // Compact aggressively so that a member that was away must catch up from a snapshot.
  snapshotEntries: 50,
  compactionKeepEntries: 10,
};

async function startMember(
  id: number,
  listen: string,
  store: MemoryLogStore,
  sm: ListStateMachine,
) {
  const transport = createPeerTransport({
    id,
    clusterId: CLUSTER,
    listen: [listen],
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  const node = await createRaftNode({
    id,
    logStore: store,
    transport,
    stateMachine: sm,
    peers: [1, 2, 3],
    ...raftOptions,
  });
  const member = { id, transport, node, store, sm, url: transport.addresses()[0]!.href };
  members.set(id, member);
  return member;
}

function connectAll(): void {
  for (const a of members.values()) {
    for (const b of members.values()) if (a !== b) a.transport.addPeer(b.id, [b.url]);
  }
}

async function leader(): Promise<Member> {
  let found: Member | undefined;
  await eventually(() => {
    const leaders = [...members.values()].filter((m) => m.node.isLeader);
    found = leaders.length === 1 ? leaders[0] : undefined;
    return found !== undefined;
  }, "one leader");
  return found!;
}

async function proposeAll(m: Member, values: string[]): Promise<void> {
  await Promise.all(
    m.node.proposeBatch(
      values.map((v) => encoder.encode(v)),
      { timeoutMs: 20_000 },
    ),
  );
}

describe("three raft-core members over PeerTransport", () => {
  it("elect a leader, commit proposals, and heal after a member's transport is killed and restarted", async () => {
    for (const id of [1, 2, 3])
      await startMember(id, "http://127.0.0.1:0", new MemoryLogStore(), new ListStateMachine());
    connectAll();

    let lead = await leader();
    const first = Array.from({ length: 100 }, (_, i) => `a${i}`);
    await proposeAll(lead, first);
    await eventually(
      () => [...members.values()].every((m) => m.sm.values.length === 100),
      "every member to apply the first 100 values",
    );
    for (const m of members.values()) expect(m.sm.values).toEqual(first);

    // Kill one follower's transport and node; the other two keep committing.
    const victim = [...members.values()].find((m) => m !== lead)!;
    await victim.node.close();
    await victim.transport.close();
    members.delete(victim.id);
    lead = await leader();
    const second = Array.from({ length: 200 }, (_, i) => `b${i}`);
    for (let i = 0; i < second.length; i += 20) await proposeAll(lead, second.slice(i, i + 20));

    // Restart it on the same address with its log store and state machine: it reconnects,
    // and since the leader compacted its log meanwhile, it catches up by snapshot.
    const restarted = await startMember(victim.id, victim.url, victim.store, victim.sm);
    for (const m of members.values())
      if (m !== restarted) m.transport.addPeer(restarted.id, [restarted.url]);
    for (const m of members.values())
      if (m !== restarted) restarted.transport.addPeer(m.id, [m.url]);
    await eventually(
      () => restarted.sm.values.length === 300,
      "the restarted member to catch up",
      60_000,
    );
    expect(restarted.sm.values).toEqual([...first, ...second]);

    lead = await leader();
    await proposeAll(lead, ["c0"]);
    await eventually(
      () => [...members.values()].every((m) => m.sm.values.at(-1) === "c0"),
      "every member to apply a proposal made after healing",
    );
    const leaderStats = lead.transport.stats().peers.get(restarted.id)!;
    expect(leaderStats.reconnects + leaderStats.dropped.unreachable).toBeGreaterThan(0);
    const snapshotsSent = [...members.values()].reduce(
      (n, m) => n + (m.transport.stats().peers.get(restarted.id)?.snapshotsSent ?? 0),
      0,
    );
    expect(snapshotsSent).toBeGreaterThanOrEqual(1);
  });
});
