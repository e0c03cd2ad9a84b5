import { RaftError } from "../errors.js";
import { RawNode } from "../raw-node.js";
import type { Ready } from "../ready.js";
import { createRng, type Rng } from "../rng.js";
import { MemoryStorage } from "../testing/memory-storage.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  Role,
} from "../types.js";
import { decodeConfChange, decodeConfChangeV2 } from "../wire.js";
import { type BugName, injectBug } from "./bugs.js";
import { InvariantViolation, SafetyChecker } from "./checker.js";
import {
  type InFlight,
  type NetworkFaults,
  RELIABLE,
  SimNetwork,
  type SnapshotPayload,
} from "./network.js";

/** Options of one simulated run; everything is derived from `seed`. */
export interface SimOptions {
  seed: number;
  /** Cluster size. Default 3. */
  nodes?: number | undefined;
  /** Steps of the faulty phase. Default 1000. */
  steps?: number | undefined;
  /** Steps allowed for the healed cluster to elect a leader and converge. Default 2000. */
  livenessSteps?: number | undefined;
  /** Receives a line per notable event (role changes, faults), for debugging a seed. */
  trace?: ((line: string) => void) | undefined;
  /** Propose random membership changes (single and joint) during the faulty phase. Default true. */
  membership?: boolean | undefined;
  /** Run with a deliberate protocol bug (see `injectBug`), to see the checker catch it. */
  bug?: BugName | undefined;
}

/** What a run did, for the summary line. */
export interface SimStats {
  steps: number;
  elections: number;
  applied: number;
  reads: number;
  crashes: number;
  messages: number;
  dropped: number;
  snapshots: number;
}

/** The outcome of one run: ok, or the first violation with the command that replays it. */
export interface SimResult {
  ok: boolean;
  seed: number;
  nodes: number;
  steps: number;
  stats: SimStats;
  violation?: InvariantViolation | undefined;
  /** The step at which the violation happened. */
  failedAtStep?: number | undefined;
  /** A shell command that replays exactly this run. */
  replay: string;
}

/** The command line that replays a run. */
export function replayCommand(seed: number, nodes: number, steps: number, bug?: BugName): string {
  const base = `pnpm --filter @raftkv/raft-core sim --seed ${seed} --nodes ${nodes} --steps ${steps}`;
  return bug === undefined ? base : `${base} --bug ${bug}`;
}

interface SimNode {
  id: NodeId;
  raw: RawNode | undefined;
  /** The durable log: only what a finished Ready saved. */
  storage: MemoryStorage;
  /** The state machine's snapshot kept with the storage's snapshot point (durable). */
  snapshotPayload: SnapshotPayload;
  /** Volatile: snapshots received, by index, waiting to be installed. */
  received: Map<number, SnapshotPayload>;
  /** Volatile state machine: applied index and hash chain value, plus history since the snapshot. */
  appliedIndex: number;
  hash: number;
  hashes: Map<number, number>;
  /** A Ready whose messages went out but whose save has not happened yet. */
  pending: Ready | undefined;
  /** Last observed commit index (for incremental checks). */
  commit: number;
  /** Read requests in flight: context id → cluster commit index when requested. */
  reads: Map<number, number>;
  /** The membership after each applied configuration change (first: at the snapshot). */
  confHistory: Array<{ index: number; confState: ConfState }>;
  /** The membership at the last check (the one in force when this step began). */
  checkedConf: ConfState | undefined;
}

const ELECTION_TICK = 10;
const TICK_PROBABILITY = 0.25;

/**
 * A seeded, deterministic simulation of a Raft cluster of RawNodes: a faulty network
 * (drops, duplicates, delays that reorder, symmetric, asymmetric and leader-isolating
 * partitions), crashes that keep only what was saved, restarts, log compaction with
 * snapshots, random proposals, reads and leadership transfers. After every step the
 * SafetyChecker verifies Raft's safety properties; after the faulty phase the network is
 * healed, every member restarted, and the cluster must elect a leader and commit new
 * proposals within a bound (liveness). The same seed always replays the same run.
 */
export class Simulation {
  readonly seed: number;
  readonly size: number;
  readonly steps: number;
  readonly livenessSteps: number;
  readonly membership: boolean;
  readonly bug: BugName | undefined;
  private readonly rng: Rng;
  private readonly net: SimNetwork;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly storages = new Map<NodeId, MemoryStorage>();
  private readonly checker: SafetyChecker;
  private readonly conf: ConfState;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly roles = new Map<NodeId, string>();
  private now = 0;
  private nextPayload = 1;
  private nextRead = 1;
  private crashes = 0;
  private snapshots = 0;
  /** Proposal keys the liveness phase waits for. */
  private awaited = new Set<number>();
  private appliedKeys = new Map<NodeId, Set<number>>();

  constructor(options: SimOptions) {
    this.seed = options.seed >>> 0;
    this.size = options.nodes ?? 3;
    this.steps = options.steps ?? 1000;
    this.livenessSteps = options.livenessSteps ?? 2000;
    this.membership = options.membership ?? true;
    this.bug = options.bug;
    this.trace = options.trace;
    this.rng = createRng(this.seed);
    const faults: NetworkFaults = {
      drop: 0.02 + this.rng.nextFloat() * 0.1,
      duplicate: this.rng.nextFloat() * 0.05,
      maxDelay: 1 + this.rng.nextInt(4),
      longDelayRate: this.rng.nextFloat() * 0.02,
      longDelay: 60,
    };
    this.net = new SimNetwork(createRng(this.seed ^ 0x5bd1e995), faults);
    this.checker = new SafetyChecker();
    const ids = Array.from({ length: this.size }, (_, i) => i + 1);
    this.conf = {
      voters: ids,
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of ids) {
      const storage = new MemoryStorage();
      this.storages.set(id, storage);
      const node: SimNode = {
        id,
        raw: undefined,
        storage,
        snapshotPayload: { index: 0, hash: 0 },
        received: new Map(),
        appliedIndex: 0,
        hash: 0,
        hashes: new Map(),
        pending: undefined,
        commit: 0,
        reads: new Map(),
        confHistory: [],
        checkedConf: undefined,
      };
      this.nodes.set(id, node);
      this.appliedKeys.set(id, new Set());
      this.start(node);
    }
  }

  /** Runs the faulty phase and the liveness phase; never throws for a violation. */
  run(): SimResult {
    const undo = this.bug === undefined ? undefined : injectBug(this.bug);
    try {
      return this.runPhases();
    } finally {
      undo?.();
    }
  }

  private runPhases(): SimResult {
    let failedAtStep: number | undefined;
    try {
      for (; this.now < this.steps; this.now++) {
        this.faultyStep();
      }
      this.livenessPhase();
    } catch (e) {
      failedAtStep = this.now;
      const violation =
        e instanceof InvariantViolation
          ? e
          : new InvariantViolation(
              "crash",
              `unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
            );
      return this.result(violation, failedAtStep);
    }
    return this.result(undefined, undefined);
  }

  private result(
    violation: InvariantViolation | undefined,
    failedAtStep: number | undefined,
  ): SimResult {
    return {
      ok: violation === undefined,
      seed: this.seed,
      nodes: this.size,
      steps: this.steps,
      stats: {
        steps: this.now,
        elections: this.checker.elections,
        applied: this.checker.applied,
        reads: this.checker.reads,
        crashes: this.crashes,
        messages: this.net.sent,
        dropped: this.net.dropped,
        snapshots: this.snapshots,
      },
      violation,
      failedAtStep,
      replay: replayCommand(this.seed, this.size, this.steps, this.bug),
    };
  }

  // ------------------------------------------------------------------ phases

  private faultyStep(): void {
    const r = this.rng;
    if (r.nextFloat() < 0.012) this.networkFault();
    if (r.nextFloat() < 0.004) this.crashRandom();
    if (r.nextFloat() < 0.015) this.restartRandom();
    if (r.nextFloat() < 0.3) this.proposeRandom();
    if (r.nextFloat() < 0.04) this.readRandom();
    if (r.nextFloat() < 0.02) this.compactRandom();
    if (r.nextFloat() < 0.002) this.transferRandom();
    if (this.membership && r.nextFloat() < 0.006) this.confChangeRandom();
    this.advanceTime();
  }

  private livenessPhase(): void {
    this.net.heal();
    this.net.dropInFlight((lost) => this.onLost(lost));
    this.net.faults = RELIABLE;
    for (const n of this.nodes.values()) if (n.raw === undefined) this.start(n);
    // 1. A leader is elected and everyone catches up with it.
    const deadline = this.now + this.livenessSteps;
    let leader: SimNode | undefined;
    for (; this.now < deadline; this.now++) {
      this.advanceTime();
      leader = this.convergedLeader();
      if (leader !== undefined) break;
      this.leaveExplicitJoint();
    }
    if (leader === undefined) {
      throw new InvariantViolation(
        "liveness",
        `no leader with a converged cluster ${this.livenessSteps} steps after healing (${this.describe()})`,
      );
    }
    // 2. Proposals to that leader are committed and applied everywhere within a bound.
    // Leadership may still move once (a transfer's TimeoutNow sent just before the
    // transfer was abandoned); like a client, re-propose what the old leader lost.
    this.awaited.clear();
    for (let i = 0; i < 5; i++) {
      const key = this.nextPayload++;
      leader.raw!.propose(encodeKey(key));
      this.awaited.add(key);
    }
    const ticks = 40 * ELECTION_TICK;
    const bound = this.now + ticks / TICK_PROBABILITY;
    for (; this.now < bound; this.now++) {
      this.advanceTime();
      if (this.allApplied()) return;
      if (leader.raw?.status().role !== Role.Leader) {
        const next = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
        if (next !== undefined && next.raw!.status().leadTransferee === 0) {
          this.trace?.(`step ${this.now}: re-proposing to new leader ${next.id}`);
          leader = next;
          for (const key of this.awaited) leader.raw!.propose(encodeKey(key));
        }
      }
    }
    throw new InvariantViolation(
      "liveness",
      `proposals made after healing were not applied everywhere within ${ticks} ticks (${this.describe()})`,
    );
  }

  /** An operator's job after an explicit joint change: leave it (a no-op when pending). */
  private leaveExplicitJoint(): void {
    const leader = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
    if (leader === undefined) return;
    const cs = confOf(leader);
    if (cs.votersOutgoing.length === 0 || cs.autoLeave) return;
    try {
      leader.raw!.proposeConfChange({
        transition: ConfChangeTransition.Auto,
        changes: [],
        context: new Uint8Array(0),
      });
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }

  private allApplied(): boolean {
    const leader = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
    if (leader === undefined) return false;
    for (const n of this.membersOf(confOf(leader))) {
      const keys = this.appliedKeys.get(n.id)!;
      for (const k of this.awaited) if (!keys.has(k)) return false;
    }
    return true;
  }

  /** The members in a configuration (voters of both halves and learners). */
  private membersOf(cs: ConfState): SimNode[] {
    const ids = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
    return [...this.nodes.values()].filter((n) => ids.has(n.id));
  }

  private convergedLeader(): SimNode | undefined {
    let leader: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const st = n.raw?.status();
      if (st?.role === Role.Leader) {
        if (leader !== undefined) return undefined;
        leader = n;
      }
    }
    if (leader === undefined || leader.raw!.status().leadTransferee !== 0) return undefined;
    const last = leader.raw!.log().lastIndex();
    if (leader.raw!.log().committed !== last) return undefined;
    // A joint configuration must have been left, so that the membership is settled.
    const cs = confOf(leader);
    if (cs.votersOutgoing.length > 0) return undefined;
    for (const n of this.membersOf(cs)) {
      const log = n.raw!.log();
      if (log.committed !== last || n.appliedIndex !== last) return undefined;
    }
    return leader;
  }

  private describe(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const st = n.raw?.status();
        if (st === undefined) return `${n.id}:down`;
        let line = `${n.id}:${st.role}/t${st.term}/c${st.commit}/l${st.lastIndex}/a${n.appliedIndex}`;
        if (st.progress !== undefined) {
          const prs = [...st.progress].map(
            ([id, p]) =>
              `${id}=${p.state}:m${p.match}:n${p.next}${p.paused ? ":paused" : ""}:if${p.inflight}`,
          );
          line += `[${prs.join(" ")}] first${st.firstIndex}`;
        }
        return line;
      })
      .join(" ");
  }

  // ------------------------------------------------------------------ one step of time

  private advanceTime(): void {
    const order = this.shuffledNodes();
    for (const n of order) {
      if (n.raw !== undefined && this.rng.nextFloat() < TICK_PROBABILITY) n.raw.tick();
    }
    for (const f of this.net.due(this.now, (lost) => this.onLost(lost))) this.deliver(f);
    for (const n of this.shuffledNodes()) this.processReady(n);
    this.check();
  }

  private shuffledNodes(): SimNode[] {
    const arr = [...this.nodes.values()];
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.rng.nextInt(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  private deliver(f: InFlight): void {
    const m = f.msg;
    const to = this.nodes.get(m.to);
    if (to === undefined || to.raw === undefined) {
      this.onLost(f);
      return;
    }
    if (m.type === MessageType.Snapshot && f.snapshotData !== undefined) {
      to.received.set(f.snapshotData.index, f.snapshotData);
    }
    to.raw.step(m);
    if (m.type === MessageType.Snapshot) {
      // The transport reports the transfer's outcome to the sender.
      this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, true);
    }
  }

  private onLost(f: InFlight): void {
    const from = this.nodes.get(f.msg.from)?.raw;
    if (from === undefined) return;
    if (f.msg.type === MessageType.Snapshot) from.reportSnapshot(f.msg.to, false);
    else if (this.rng.nextFloat() < 0.3) from.reportUnreachable(f.msg.to);
  }

  /**
   * Ready processing in two halves, like the driver's: first the messages that may go
   * before the save; then (now or in a later step) the save, the messages after it, the
   * applies and advance. A crash between the halves loses everything unsaved.
   */
  private processReady(n: SimNode): void {
    const raw = n.raw;
    if (raw === undefined) return;
    if (n.pending !== undefined) {
      this.finishReady(n, n.pending);
      return;
    }
    if (!raw.hasReady()) return;
    const rd = raw.ready();
    for (const m of rd.messages) this.send(n, m);
    if (this.rng.nextFloat() < 0.5) this.finishReady(n, rd);
    else n.pending = rd;
  }

  private finishReady(n: SimNode, rd: Ready): void {
    n.pending = undefined;
    const raw = n.raw!;
    if (rd.snapshot !== undefined) {
      const payload = n.received.get(rd.snapshot.index);
      if (payload === undefined) {
        throw new InvariantViolation(
          "crash",
          `member ${n.id} must install snapshot ${rd.snapshot.index} but never received its data`,
        );
      }
      n.storage.applySnapshot(rd.snapshot);
      n.snapshotPayload = payload;
      this.checker.onSnapshotRestore(n.id, payload.index, payload.hash);
      n.appliedIndex = payload.index;
      n.hash = payload.hash;
      n.hashes.clear();
      n.hashes.set(payload.index, payload.hash);
      n.confHistory = [{ index: payload.index, confState: rd.snapshot.confState }];
      this.snapshots++;
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const s = n.storage;
      const prevTerm =
        first - 1 <= s.lastIndex() && first - 1 >= s.snapshotMetadata().index
          ? s.term(first - 1)
          : 0;
      this.checker.onPersist(n.id, rd.entries, prevTerm);
      s.append(rd.entries);
    }
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    for (const m of rd.messagesAfterSave) this.send(n, m);
    const keys = this.appliedKeys.get(n.id)!;
    for (const e of rd.committedEntries) {
      n.hash = this.checker.onApply(n.id, n.appliedIndex, n.hash, e);
      n.appliedIndex = e.index;
      n.hashes.set(e.index, n.hash);
      if (e.type !== EntryType.Normal) this.applyConfChange(n, raw, e);
      if (this.awaited.size > 0 && e.data.byteLength === 4) {
        const key = new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0);
        if (this.awaited.has(key)) keys.add(key);
      }
    }
    for (const rs of rd.readStates) {
      const id = new DataView(rs.context.buffer, rs.context.byteOffset, 4).getUint32(0);
      const min = n.reads.get(id);
      if (min !== undefined) {
        this.checker.onRead(n.id, rs.index, min);
        n.reads.delete(id);
      }
    }
    raw.advance(rd);
  }

  private send(from: SimNode, m: Message): void {
    if (m.type === MessageType.Snapshot) {
      // Like the driver, send the state machine as it is now, with the metadata of that
      // point (its applied index, that entry's term, the membership there). The log's
      // compaction point Raft asked for may be older, and may predate the recipient's
      // own addition to the cluster.
      const meta = {
        index: from.appliedIndex,
        term: from.raw!.log().term(from.appliedIndex),
        confState: confOf(from),
      };
      const payload = { index: from.appliedIndex, hash: from.hash };
      const before = this.net.dropped;
      this.net.send(this.now, { ...m, snapshot: meta }, payload);
      if (this.net.dropped !== before) from.raw?.reportSnapshot(m.to, false);
      return;
    }
    this.net.send(this.now, m);
  }

  /** Observes every member after a step and feeds the checker. */
  private check(): void {
    for (const n of this.nodes.values()) {
      const raw = n.raw;
      if (raw === undefined) continue;
      const log = raw.log();
      if (this.trace !== undefined) {
        const role = `${raw.role}/t${raw.term}/lead${raw.leader}`;
        if (this.roles.get(n.id) !== role) {
          this.roles.set(n.id, role);
          this.trace(
            `step ${this.now}: member ${n.id} ${role} commit ${log.committed} last ${log.lastIndex()}`,
          );
        }
      }
      if (raw.role === Role.Leader) this.checker.onLeader(n.id, raw.term, log);
      if (log.committed > n.commit) {
        const configs = [
          ...(n.checkedConf === undefined ? [] : [n.checkedConf]),
          ...confsSince(n, n.commit),
        ];
        this.checker.onCommit(n.id, n.commit, log.committed, log, this.storages, configs);
      } else if (log.committed < n.commit) {
        throw new InvariantViolation(
          "committed-entry-lost",
          `member ${n.id}'s commit index went back from ${n.commit} to ${log.committed}`,
        );
      }
      n.commit = log.committed;
      n.checkedConf = confOf(n);
    }
  }

  // ------------------------------------------------------------------ faults and load

  private start(n: SimNode): void {
    const s = n.storage;
    const snap = s.snapshotMetadata();
    n.raw = new RawNode({
      id: n.id,
      storage: s,
      hardState: s.hardState,
      confState: snap.index > 0 ? snap.confState : this.conf,
      applied: snap.index,
      electionTick: ELECTION_TICK,
      heartbeatTick: 1,
      maxSizePerMsg: 64,
      maxInflightMsgs: 8,
      rng: createRng(this.seed * 31 + n.id * 7919 + this.crashes),
    });
    n.pending = undefined;
    n.received.clear();
    n.reads.clear();
    // A volatile state machine: it restarts from the durable snapshot and re-applies the
    // committed log after it.
    n.appliedIndex = n.snapshotPayload.index;
    n.hash = n.snapshotPayload.hash;
    n.hashes.clear();
    n.hashes.set(n.appliedIndex, n.hash);
    n.commit = n.raw.log().committed;
    n.confHistory = [{ index: snap.index, confState: snap.index > 0 ? snap.confState : this.conf }];
    n.checkedConf = undefined;
    this.appliedKeys.set(n.id, this.appliedKeys.get(n.id) ?? new Set());
  }

  private crashRandom(): void {
    const up = [...this.nodes.values()].filter((n) => n.raw !== undefined);
    if (up.length === 0) return;
    const n = up[this.rng.nextInt(up.length)]!;
    n.raw = undefined;
    n.pending = undefined;
    this.crashes++;
    this.trace?.(`step ${this.now}: member ${n.id} crashed`);
  }

  private restartRandom(): void {
    const down = [...this.nodes.values()].filter((n) => n.raw === undefined);
    if (down.length === 0) return;
    const n = down[this.rng.nextInt(down.length)]!;
    this.start(n);
    this.trace?.(`step ${this.now}: member ${n.id} restarted`);
  }

  private networkFault(): void {
    const ids = [...this.nodes.keys()];
    const leader = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
    this.afterFault(ids, leader?.id ?? 0, this.rng.nextInt(5));
  }

  private afterFault(ids: NodeId[], leaderId: NodeId, kind: number): void {
    this.applyFault(ids, leaderId, kind);
    this.trace?.(
      `step ${this.now}: network fault ${kind}, cut links: ${this.net.describeCuts() || "none"}`,
    );
  }

  private applyFault(ids: NodeId[], leaderId: NodeId, kind: number): void {
    const leader = leaderId === 0 ? undefined : { id: leaderId };
    switch (kind) {
      case 0: {
        // Isolate the leader (or a random member) from everyone.
        const victim = leader?.id ?? ids[this.rng.nextInt(ids.length)]!;
        this.net.partition([[victim], ids.filter((i) => i !== victim)]);
        break;
      }
      case 1: {
        // A random split into two groups.
        const a: NodeId[] = [];
        const b: NodeId[] = [];
        for (const id of ids) (this.rng.nextFloat() < 0.5 ? a : b).push(id);
        this.net.partition([a, b]);
        break;
      }
      case 2: {
        // Asymmetric: one direction of one link fails.
        const from = ids[this.rng.nextInt(ids.length)]!;
        const to = ids[this.rng.nextInt(ids.length)]!;
        if (from !== to) this.net.cut(from, to);
        break;
      }
      case 3: {
        // The leader can send but not receive: it keeps its followers but hears no quorum.
        if (leader !== undefined)
          for (const id of ids) if (id !== leader.id) this.net.cut(id, leader.id);
        break;
      }
      default:
        this.net.heal();
    }
  }

  private proposeRandom(): void {
    const up = [...this.nodes.values()].filter((n) => n.raw !== undefined);
    if (up.length === 0) return;
    const leader = up.find((n) => n.raw!.role === Role.Leader);
    const n =
      leader !== undefined && this.rng.nextFloat() < 0.85
        ? leader
        : up[this.rng.nextInt(up.length)]!;
    const count = 1 + this.rng.nextInt(3);
    try {
      if (count === 1) n.raw!.propose(encodeKey(this.nextPayload++));
      else {
        const datas = [];
        for (let i = 0; i < count; i++) datas.push(encodeKey(this.nextPayload++));
        n.raw!.proposeBatch(datas);
      }
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }

  private readRandom(): void {
    const up = [...this.nodes.values()].filter((n) => n.raw !== undefined);
    if (up.length === 0) return;
    const n = up[this.rng.nextInt(up.length)]!;
    const id = this.nextRead++;
    try {
      n.raw!.readIndex(encodeKey(id));
      n.reads.set(id, this.checker.maxCommit);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }

  private compactRandom(): void {
    const up = [...this.nodes.values()].filter((n) => n.raw !== undefined);
    if (up.length === 0) return;
    const n = up[this.rng.nextInt(up.length)]!;
    // Only what the state machine has applied can be compacted, and only while no Ready
    // is half-processed (the snapshot point must be applied and saved).
    const at = n.appliedIndex - this.rng.nextInt(4);
    if (
      n.pending !== undefined ||
      at <= n.storage.snapshotMetadata().index ||
      at > n.storage.lastIndex()
    ) {
      return;
    }
    const hash = n.hashes.get(at);
    if (hash === undefined) return;
    n.storage.compact(at, confAt(n, at));
    n.snapshotPayload = { index: at, hash };
    for (const k of [...n.hashes.keys()]) if (k < at) n.hashes.delete(k);
    let keep = 0;
    for (let i = 0; i < n.confHistory.length; i++) if (n.confHistory[i]!.index <= at) keep = i;
    n.confHistory = n.confHistory.slice(keep);
  }

  private applyConfChange(n: SimNode, raw: RawNode, e: Entry): void {
    try {
      const cc =
        e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
      const cs = raw.applyConfChange(cc);
      n.confHistory.push({ index: e.index, confState: cs });
      this.trace?.(
        `step ${this.now}: member ${n.id} applied membership at ${e.index}: voters [${cs.voters}]` +
          (cs.votersOutgoing.length > 0 ? ` + outgoing [${cs.votersOutgoing}]` : "") +
          (cs.learners.length > 0 ? ` learners [${cs.learners}]` : ""),
      );
    } catch (err) {
      // An invalid committed change is ignored by every member alike.
      if (!(err instanceof RaftError)) throw err;
    }
  }

  /**
   * Proposes a random membership change at the leader: remove or add a voter, add or
   * demote a learner, swap two members through a joint configuration, or leave an
   * explicit joint configuration. At least a majority of the members stay voters.
   */
  private confChangeRandom(): void {
    const leader = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
    if (leader === undefined) return;
    const cs = confOf(leader);
    const ids = [...this.nodes.keys()];
    const minVoters = Math.floor(this.size / 2) + 1;
    const pick = (from: NodeId[]): NodeId | undefined =>
      from.length === 0 ? undefined : from[this.rng.nextInt(from.length)];
    const nonVoters = ids.filter((i) => !cs.voters.includes(i));
    const none = new Uint8Array(0);
    const single = (type: ConfChangeType, nodeId: NodeId): ConfChangeV2 => ({
      transition: ConfChangeTransition.Auto,
      changes: [{ type, nodeId }],
      context: none,
    });
    let cc: ConfChangeV2 | undefined;
    if (cs.votersOutgoing.length > 0) {
      if (!cs.autoLeave) cc = { transition: ConfChangeTransition.Auto, changes: [], context: none };
    } else {
      switch (this.rng.nextInt(4)) {
        case 0: {
          const v = pick(cs.voters);
          if (v !== undefined && cs.voters.length > minVoters)
            cc = single(ConfChangeType.RemoveNode, v);
          break;
        }
        case 1: {
          const v = pick(nonVoters);
          if (v !== undefined) cc = single(ConfChangeType.AddNode, v);
          break;
        }
        case 2: {
          // A learner: a member that is not one yet, or a voter demoted.
          const candidates = ids.filter(
            (i) =>
              !cs.learners.includes(i) && (!cs.voters.includes(i) || cs.voters.length > minVoters),
          );
          const v = pick(candidates);
          if (v !== undefined) cc = single(ConfChangeType.AddLearnerNode, v);
          break;
        }
        default: {
          const add = pick(nonVoters);
          const remove = pick(cs.voters);
          if (add !== undefined && remove !== undefined) {
            const transitions = [
              ConfChangeTransition.Auto,
              ConfChangeTransition.JointImplicit,
              ConfChangeTransition.JointExplicit,
            ];
            cc = {
              transition: transitions[this.rng.nextInt(3)]!,
              changes: [
                { type: ConfChangeType.AddNode, nodeId: add },
                { type: ConfChangeType.RemoveNode, nodeId: remove },
              ],
              context: none,
            };
          }
        }
      }
    }
    if (cc === undefined) return;
    try {
      leader.raw!.proposeConfChange(cc);
      this.trace?.(
        `step ${this.now}: leader ${leader.id} proposes ${JSON.stringify(cc.changes)} (transition ${cc.transition})`,
      );
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
  }

  private transferRandom(): void {
    const leader = [...this.nodes.values()].find((n) => n.raw?.role === Role.Leader);
    if (leader === undefined) return;
    const ids = [...this.nodes.keys()].filter((i) => i !== leader.id);
    leader.raw!.transferLeadership(ids[this.rng.nextInt(ids.length)]!);
  }
}

/** The membership a member has applied. */
function confOf(n: SimNode): ConfState {
  return n.confHistory[n.confHistory.length - 1]!.confState;
}

/** The memberships a member applied at indexes after `index`, and the one before them. */
function confsSince(n: SimNode, index: number): ConfState[] {
  const out: ConfState[] = [confAt(n, index)];
  for (const h of n.confHistory) if (h.index > index) out.push(h.confState);
  return out;
}

/** The membership a member had applied at `index`. */
function confAt(n: SimNode, index: number): ConfState {
  let cs = n.confHistory[0]!.confState;
  for (const h of n.confHistory) {
    if (h.index <= index) cs = h.confState;
    else break;
  }
  return cs;
}

function encodeKey(key: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, key);
  return b;
}

/** Runs one simulation. */
export function simulate(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
