import { bootstrapState } from "../bootstrap.js";
import { InvalidConfigError } from "../errors.js";
import { RawNode, type RawNodeOptions } from "../raw-node.js";
import type { Ready } from "../ready.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type ReadState,
  Role,
} from "../types.js";
import { decodeConfChange, decodeConfChangeV2 } from "../wire.js";
import { MemoryStorage } from "./memory-storage.js";

/** One member of a SyncCluster. */
export interface SyncClusterNode {
  readonly id: NodeId;
  raw: RawNode;
  /** The durable log (what survives `crash`). */
  storage: MemoryStorage;
  /** Normal entries applied, in order (empty entries skipped). */
  applied: Entry[];
  /** The index of the last entry applied (normal, empty or configuration). */
  appliedIndex: number;
  /** Read states delivered, in order. */
  readStates: ReadState[];
  /** The configuration after the last applied change. */
  confState: ConfState;
  /** Snapshot data per index this member produced or received (its applied entries). */
  snapshots: Map<number, Entry[]>;
  /** False while crashed: it neither steps, ticks nor processes Readies. */
  up: boolean;
  /** The membership it started from before any snapshot (restarts replay the log from it). */
  bootConf: ConfState;
}

/** Options of a SyncCluster. */
export interface SyncClusterOptions {
  /** Member ids; all are initial voters. Default [1, 2, 3]. */
  ids?: NodeId[] | undefined;
  /** Initial learners (in addition to `ids`). Default none. */
  learners?: NodeId[] | undefined;
  /** RawNode options applied to every member (id, storage and state are filled in). */
  node?: Partial<RawNodeOptions> | undefined;
  /**
   * Apply configuration-change entries to the RawNodes when committed (as an application
   * must). Default true.
   */
  applyConfChanges?: boolean | undefined;
  /** Called for every message delivered; return false to drop it. */
  filter?: ((m: Message) => boolean) | undefined;
  /** Called for every message lost to a cut link or a crashed recipient. */
  onDropped?: ((m: Message) => void) | undefined;
  /**
   * How the founding members learn the membership: "conf-state" (default) passes it to
   * each RawNode; "log" writes bootstrap entries (see `bootstrapState`), so that members
   * added later can learn it from the log.
   */
  bootstrap?: "conf-state" | "log" | undefined;
  /** Called with every Ready as it is taken, before it is processed. */
  onReady?: ((node: SyncClusterNode, rd: Ready) => void) | undefined;
}

interface Envelope {
  msg: Message;
  snapshotData?: Entry[] | undefined;
}

/**
 * A deterministic cluster of RawNodes in one process, driven synchronously: every Ready
 * is saved to an in-memory log, its messages delivered in order, its entries applied.
 * For tests, examples and benchmarks; `stabilize()` runs until no message is left.
 * Links can be cut (`isolate`, `cut`) and members crashed and restarted with only their
 * durable state.
 */
export class SyncCluster {
  readonly nodes = new Map<NodeId, SyncClusterNode>();
  private queue: Envelope[] = [];
  private readonly cut_ = new Set<string>();
  private readonly options: SyncClusterOptions;
  private readonly initialConf: ConfState;
  /** Messages delivered so far, by type, for tests that check message counts. */
  readonly delivered = new Map<MessageType, number>();

  constructor(options: SyncClusterOptions = {}) {
    this.options = options;
    const ids = options.ids ?? [1, 2, 3];
    if (ids.length === 0) throw new InvalidConfigError("a cluster needs at least one member");
    const learners = options.learners ?? [];
    this.initialConf = {
      voters: [...ids],
      learners: [...learners],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of [...ids, ...learners]) {
      const storage = new MemoryStorage();
      if (options.bootstrap === "log") {
        const b = bootstrapState(ids, learners);
        storage.append(b.entries);
        storage.setHardState(b.hardState);
      }
      this.addNode(id, storage, this.initialConf);
    }
  }

  /**
   * Adds a member that joins an existing cluster: empty storage, no configuration; it
   * learns both from the leader (call after proposing its addition).
   */
  join(id: NodeId): SyncClusterNode {
    const none: ConfState = {
      voters: [],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    return this.addNode(id, new MemoryStorage(), none);
  }

  /**
   * Adds a member with the given (durable) storage; it starts as a follower. `bootConf` is
   * the membership it knows before its log and snapshot tell it more (default: the
   * founding membership); a restart starts from the snapshot's and replays the log after it.
   */
  addNode(id: NodeId, storage: MemoryStorage, bootConf?: ConfState): SyncClusterNode {
    const snap = storage.snapshotMetadata();
    const boot = bootConf ?? this.nodes.get(id)?.bootConf ?? this.initialConf;
    const conf = snap.index > 0 ? snap.confState : boot;
    const raw = new RawNode({
      ...this.options.node,
      id,
      storage,
      hardState: storage.hardState,
      confState: conf,
      applied: snap.index,
    });
    const prev = this.nodes.get(id);
    const snapshots = prev?.snapshots ?? new Map<number, Entry[]>();
    const node: SyncClusterNode = {
      id,
      raw,
      storage,
      applied: snap.index > 0 ? [...(snapshots.get(snap.index) ?? [])] : [],
      appliedIndex: snap.index,
      readStates: [],
      confState: conf,
      snapshots,
      up: true,
      bootConf: boot,
    };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): SyncClusterNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new InvalidConfigError(`no member ${id}`);
    return n;
  }

  /** The member that is leader in the highest term, or 0. */
  leader(): NodeId {
    let best = 0;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const st = n.raw.status();
      if (st.role === Role.Leader && st.term > bestTerm) {
        best = n.id;
        bestTerm = st.term;
      }
    }
    return best;
  }

  /** Makes `id` campaign and runs until quiet; returns whether it became leader. */
  elect(id: NodeId): boolean {
    // A member with committed configuration changes still to apply does not campaign.
    this.stabilize();
    this.node(id).raw.campaign();
    this.stabilize();
    return this.node(id).raw.status().role === Role.Leader;
  }

  /** Ticks one member (or every member that is up) `n` times, processing as it goes. */
  tick(id?: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) {
        if (node.up && (id === undefined || node.id === id)) node.raw.tick();
      }
    }
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: NodeId, b: NodeId): void {
    this.cut_.add(`${a}>${b}`);
    this.cut_.add(`${b}>${a}`);
  }

  /** Cuts one direction only. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut_.add(`${from}>${to}`);
  }

  /** Cuts `id` off from every other member. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Restores every link. */
  heal(): void {
    this.cut_.clear();
  }

  /** Crashes a member: it loses everything not saved. */
  crash(id: NodeId): void {
    this.node(id).up = false;
  }

  /** Restarts a crashed member from its durable storage; it re-applies committed entries. */
  restart(id: NodeId): SyncClusterNode {
    const old = this.node(id);
    return this.addNode(id, old.storage.clone(), old.bootConf);
  }

  /** Processes Readies and delivers messages until nothing is left (at most `maxRounds` rounds). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.nodes.values()) {
        if (n.up && n.raw.hasReady()) {
          this.process(n);
          busy = true;
        }
      }
      if (this.queue.length > 0) {
        busy = true;
        this.deliverAll();
      }
      if (!busy) return;
    }
    throw new Error(`cluster did not stabilize within ${maxRounds} rounds`);
  }

  /** Delivers every queued message once (new messages they cause wait for the next call). */
  deliverAll(): void {
    const q = this.queue;
    this.queue = [];
    for (const env of q) this.deliver(env);
  }

  /** Drops every queued message. */
  dropQueued(): Message[] {
    const q = this.queue;
    this.queue = [];
    return q.map((e) => e.msg);
  }

  /** Messages queued and not yet delivered. */
  queued(): readonly Message[] {
    return this.queue.map((e) => e.msg);
  }

  /** Processes one Ready of `n` completely: send, save, send after save, apply, advance. */
  process(n: SyncClusterNode): Ready {
    const rd = n.raw.ready();
    this.options.onReady?.(n, rd);
    for (const m of rd.messages) this.enqueue(n, m);
    if (rd.snapshot !== undefined) {
      n.storage.applySnapshot(rd.snapshot);
      const data = n.snapshots.get(rd.snapshot.index) ?? [];
      n.applied = [...data];
      n.appliedIndex = rd.snapshot.index;
      n.confState = rd.snapshot.confState;
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    for (const m of rd.messagesAfterSave) this.enqueue(n, m);
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) n.readStates.push(rs);
    n.raw.advance(rd);
    return rd;
  }

  /** Compacts `id`'s log up to its applied index, keeping a snapshot of its applied entries. */
  compact(id: NodeId, index?: number): void {
    const n = this.node(id);
    const at = index ?? n.appliedIndex;
    n.snapshots.set(
      at,
      n.applied.filter((e) => e.index <= at),
    );
    n.storage.compact(at, n.confState);
  }

  private apply(n: SyncClusterNode, e: Entry): void {
    n.appliedIndex = e.index;
    if (e.type === EntryType.Normal) {
      if (e.data.byteLength > 0) n.applied.push(e);
      return;
    }
    if (this.options.applyConfChanges === false) return;
    const cc =
      e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
    try {
      n.confState = n.raw.applyConfChange(cc);
    } catch {
      // An invalid committed change is ignored by every member alike.
    }
  }

  private enqueue(from: SyncClusterNode, m: Message): void {
    const env: Envelope = { msg: m };
    if (m.type === MessageType.Snapshot && m.snapshot !== undefined) {
      const idx = m.snapshot.index;
      env.snapshotData = from.snapshots.get(idx) ?? from.applied.filter((e) => e.index <= idx);
    }
    this.queue.push(env);
  }

  private deliver(env: Envelope): void {
    const m = env.msg;
    const to = this.nodes.get(m.to);
    if (to === undefined || !to.up || this.cut_.has(`${m.from}>${m.to}`)) {
      this.options.onDropped?.(m);
      return;
    }
    if (this.options.filter !== undefined && !this.options.filter(m)) return;
    this.delivered.set(m.type, (this.delivered.get(m.type) ?? 0) + 1);
    if (env.snapshotData !== undefined && m.snapshot !== undefined) {
      to.snapshots.set(m.snapshot.index, env.snapshotData);
    }
    to.raw.step(m);
    if (m.type === MessageType.Snapshot) {
      const from = this.nodes.get(m.from);
      // The transfer "completed": tell the leader, as a transport would.
      if (from?.up) from.raw.reportSnapshot(m.to, true);
    }
  }
}
