import { randomInt } from "node:crypto";
import type { Registry } from "prom-client";
import { bootstrapState } from "./bootstrap.js";
import {
  AbortError,
  InvalidConfChangeError,
  InvalidConfigError,
  InvalidMessageError,
  ProposalDroppedError,
  ProposalOutcomeUnknownError,
  RaftError,
  ReadIndexDroppedError,
  SnapshotError,
  StoppedError,
  StorageError,
  TimeoutError,
} from "./errors.js";
import type { LogStore } from "./log-store.js";
import { type Logger, silentLogger } from "./logger.js";
import { createRaftMetrics, type RaftMetrics } from "./metrics.js";
import { type ProposalPosition, RawNode, type RawNodeOptions, type Status } from "./raw-node.js";
import type { Ready } from "./ready.js";
import { createRng } from "./rng.js";
import type { StateMachine } from "./state-machine.js";
import type { Transport } from "./transport.js";
import {
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  Role,
  type SnapshotMetadata,
} from "./types.js";
import { decodeConfChange, decodeConfChangeV2 } from "./wire.js";

/** Per-call options of the asynchronous operations. */
export interface CallOptions {
  /**
   * An optional AbortSignal to cancel the call. If it fires first, the call rejects with
   * AbortError (whose `cause` is the signal's reason).
   */
  signal?: AbortSignal | undefined;
  /** Reject with TimeoutError after this many milliseconds. Default: see each method. */
  timeoutMs?: number | undefined;
}

/** Options of a RaftNode; the limits are RawNode's (see RawNodeOptions) plus the driver's. */
export interface RaftNodeOptions<R> {
  id: NodeId;
  logStore: LogStore;
  transport: Transport;
  stateMachine: StateMachine<R>;
  /**
   * The founding voters of a new cluster. Used only when the log store is empty (first
   * start) and `join` is not set; every founding member must be given the same list.
   */
  peers?: readonly NodeId[] | undefined;
  /** Founding learners, with `peers`. Default none. */
  learners?: readonly NodeId[] | undefined;
  /**
   * Join an existing cluster: on first start the member knows no membership and learns it
   * from the leader, after the cluster has committed its addition. Default false.
   */
  join?: boolean | undefined;
  /** Milliseconds per tick. Default 100 (with electionTick 10: a 1–2 s election timeout). */
  tickMs?: number | undefined;
  electionTick?: number | undefined;
  heartbeatTick?: number | undefined;
  maxSizePerMsg?: number | undefined;
  maxCommittedSizePerReady?: number | undefined;
  maxInflightMsgs?: number | undefined;
  maxInflightBytes?: number | undefined;
  maxUncommittedEntriesSize?: number | undefined;
  maxPendingReadIndex?: number | undefined;
  preVote?: boolean | undefined;
  checkQuorum?: boolean | undefined;
  /**
   * Compact the log once it holds more than this many applied entries. 0 disables
   * compaction. Default 10,000. Compaction happens only up to the state machine's durable
   * `appliedIndex()`, so a volatile state machine (appliedIndex 0) never compacts — its
   * state can only be rebuilt by replaying the whole log.
   */
  snapshotEntries?: number | undefined;
  /** Entries kept behind the compaction point so slow followers can catch up without a snapshot. Default 1,000. */
  compactionKeepEntries?: number | undefined;
  /** Maximum proposals waiting for their outcome; more are refused (ProposalDroppedError). Default 100,000. */
  maxPendingProposals?: number | undefined;
  /** Default timeout of `readIndex` in milliseconds. Default 5,000. */
  readTimeoutMs?: number | undefined;
  /**
   * Committed entries handed to the state machine but not yet applied, beyond which the
   * Ready loop waits for the state machine before taking the next Ready. Applying runs
   * beside the loop (like etcd's apply goroutine), so a slow apply does not hold up
   * saving and replicating new entries; this bounds the memory it may fall behind by.
   * Default 65,536.
   */
  maxApplyBacklogEntries?: number | undefined;
  logger?: Logger | undefined;
  /** A prom-client registry to register the node's metrics in. Default: no metrics. */
  registry?: Registry | undefined;
  /** Closes the node when aborted. */
  signal?: AbortSignal | undefined;
}

/** A change of leader as seen by this member. */
export interface LeaderChange {
  /** The new leader, 0 if none is known. */
  leader: NodeId;
  term: number;
  role: Role;
}

/** `RawNode.status()` plus the index the state machine has applied. */
export interface RaftNodeStatus extends Status {
  /** The index of the last entry applied to the state machine. */
  appliedIndex: number;
}

interface PendingProposal {
  term: number;
  settle(outcome: { ok: true; value: unknown } | { ok: false; error: Error }): void;
  /** Another proposal at the same index (after a change of leadership). */
  next: PendingProposal | undefined;
}

interface PendingRead {
  /** -1 until the read state arrives. */
  index: number;
  /** The leader the request went to (this member itself when it leads). */
  leader: NodeId;
  settle(outcome: { ok: true; value: number } | { ok: false; error: Error }): void;
}

interface IncomingSnapshot {
  data: AsyncIterable<Uint8Array>;
  done(error?: Error): void;
}

/**
 * The asynchronous driver of a RawNode: it owns the tick timer and the Ready loop, and
 * connects Raft to a LogStore (durability), a Transport (peers) and a StateMachine (the
 * application). Each Ready is processed in order: messages that may go first are sent,
 * a received snapshot installed, entries and hard state saved (synced when Raft requires
 * it), the remaining messages sent, committed entries applied, and proposals and reads
 * settled. Proposals arriving meanwhile are appended together and travel in the next
 * Ready, so throughput grows with load.
 *
 * Create one with `createRaftNode`. Close it with `close()`; it does not close the log
 * store, transport or state machine, which the caller owns.
 */
export class RaftNode<R = unknown> {
  readonly id: NodeId;
  private readonly raw: RawNode;
  private readonly logStore: LogStore;
  private readonly transport: Transport;
  private readonly sm: StateMachine<R>;
  private readonly logger: Logger;
  private readonly metrics: RaftMetrics | undefined;
  private readonly opts: Required<
    Pick<
      RaftNodeOptions<R>,
      | "tickMs"
      | "electionTick"
      | "snapshotEntries"
      | "compactionKeepEntries"
      | "maxPendingProposals"
      | "readTimeoutMs"
      | "maxApplyBacklogEntries"
    >
  >;
  private readonly proposals = new Map<number, PendingProposal>();
  private pendingCount = 0;
  private readonly reads = new Map<string, PendingRead>();
  /** Reads whose index is known, waiting for the state machine to apply that far. */
  private readsWaitingApply: Array<{ key: string; index: number }> = [];
  private readonly incomingSnapshots = new Map<number, IncomingSnapshot>();
  private readonly leaderListeners = new Set<(e: LeaderChange) => void>();
  /** ConfState after each applied configuration change, for compaction points. */
  private confHistory: Array<{ index: number; confState: ConfState }>;
  private confState: ConfState;
  private applied: number;
  private nextReadId = 1;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private fatal: Error | undefined;
  /**
   * A hard state whose only change was the commit index, not written yet: it goes out
   * with the next save (see `handleReady`).
   */
  private unsavedHardState: HardState | undefined;
  /** Committed batches waiting for the state machine, in log order. */
  private applyQueue: Entry[][] = [];
  private applyBacklog = 0;
  /** The apply loop while it runs. */
  private applying: Promise<void> | undefined;
  /** Work that must see the state machine exactly at `applied` (snapshot captures). */
  private atApplyBoundary: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastLeader: LeaderChange = { leader: 0, term: 0, role: Role.Follower };

  /** @internal Use `createRaftNode`. */
  constructor(
    options: RaftNodeOptions<R>,
    raw: RawNode,
    applied: number,
    confState: ConfState,
    confIndex: number,
  ) {
    this.id = options.id;
    this.raw = raw;
    this.logStore = options.logStore;
    this.transport = options.transport;
    this.sm = options.stateMachine;
    this.logger = options.logger ?? silentLogger;
    this.applied = applied;
    this.confState = confState;
    this.confHistory = [{ index: confIndex, confState }];
    this.opts = {
      tickMs: options.tickMs ?? 100,
      electionTick: options.electionTick ?? 10,
      snapshotEntries: options.snapshotEntries ?? 10_000,
      compactionKeepEntries: options.compactionKeepEntries ?? 1_000,
      maxPendingProposals: options.maxPendingProposals ?? 100_000,
      readTimeoutMs: options.readTimeoutMs ?? 5_000,
      maxApplyBacklogEntries: options.maxApplyBacklogEntries ?? 65_536,
    };
    this.metrics =
      options.registry === undefined ? undefined : createRaftMetrics(options.registry, options.id);
  }

  /** @internal Starts the transport, the timer and the Ready loop. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    await this.transport.start({
      onMessages: (messages) => this.onMessages(messages),
      onSnapshot: (message, data) => this.onSnapshot(message, data),
    });
    this.timer = setInterval(() => {
      if (this.stopped) return;
      this.raw.tick();
      this.notify();
    }, this.opts.tickMs);
    this.loop = this.run();
    if (signal !== undefined) {
      if (signal.aborted) await this.close();
      else signal.addEventListener("abort", () => void this.close(), { once: true });
    }
  }

  // ------------------------------------------------------------------ public API

  /**
   * Proposes `data` and resolves with the state machine's result once it is applied.
   * Rejects with NotLeaderError (leader hint) or LeaderNotFoundError when this member is
   * not the leader, ProposalDroppedError when it was refused (flow control, transfer) or
   * overwritten by a new leader — in both cases it was definitely not applied — and
   * StoppedError when the node closes. TimeoutError (`timeoutMs`, default none) and
   * AbortError (`signal`) leave the outcome unknown: the entry may still be applied.
   */
  propose(data: Uint8Array, options: CallOptions = {}): Promise<R> {
    return this.proposeEntries([data], options)[0]!;
  }

  /**
   * Proposes several entries at consecutive indexes in one step; one promise per entry,
   * each settling like `propose`'s.
   */
  proposeBatch(datas: readonly Uint8Array[], options: CallOptions = {}): Promise<R>[] {
    return this.proposeEntries(datas, options);
  }

  private proposeEntries(datas: readonly Uint8Array[], options: CallOptions): Promise<R>[] {
    const refused = this.refuse(options.signal, options.timeoutMs);
    if (refused === undefined && this.pendingCount + datas.length > this.opts.maxPendingProposals) {
      const e = new ProposalDroppedError(
        "uncommitted-size-exceeded",
        `more than maxPendingProposals (${this.opts.maxPendingProposals}) proposals are waiting`,
      );
      return datas.map(() => Promise.reject(e));
    }
    if (refused !== undefined) return datas.map(() => Promise.reject(refused));
    let pos: ProposalPosition;
    try {
      pos = datas.length === 1 ? this.raw.propose(datas[0]!) : this.raw.proposeBatch(datas);
    } catch (e) {
      this.metrics?.proposals("refused", datas.length);
      return datas.map(() => Promise.reject(e));
    }
    this.notify();
    const out: Promise<R>[] = new Array(datas.length);
    for (let i = 0; i < datas.length; i++) {
      out[i] = this.track<R>(pos.index + i, pos.term, options);
    }
    return out;
  }

  /**
   * Proposes a membership change; resolves with the new ConfState once it is applied.
   * Rejects like `propose`, and with ProposalDroppedError ("conf-change-rejected") while
   * another change is pending or when the change does not fit the current configuration.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2, options: CallOptions = {}): Promise<ConfState> {
    const refused = this.refuse(options.signal, options.timeoutMs);
    if (refused !== undefined) return Promise.reject(refused);
    let pos: ProposalPosition;
    try {
      pos = this.raw.proposeConfChange(cc);
    } catch (e) {
      return Promise.reject(e);
    }
    this.notify();
    return this.track<ConfState>(pos.index, pos.term, options);
  }

  /**
   * Resolves with a read index once it is safe to serve a linearizable read from the
   * local state machine: the leader confirmed its leadership with a quorum after the
   * call, and this member has applied at least that index. Rejects with
   * LeaderNotFoundError when no leader is known, ReadIndexDroppedError when the request
   * was lost to a change of leader (retry), TimeoutError after `timeoutMs` (default
   * `readTimeoutMs`), AbortError, or StoppedError.
   */
  readIndex(options: CallOptions = {}): Promise<number> {
    const refused = this.refuse(options.signal, options.timeoutMs);
    if (refused !== undefined) return Promise.reject(refused);
    const id = this.nextReadId++;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setFloat64(0, id);
    const key = contextKey(ctx);
    try {
      this.raw.readIndex(ctx);
    } catch (e) {
      return Promise.reject(e);
    }
    this.notify();
    return new Promise<number>((resolve, reject) => {
      const cleanup = this.guard(
        { ...options, timeoutMs: options.timeoutMs ?? this.opts.readTimeoutMs },
        (error) => {
          this.reads.delete(key);
          reject(error);
        },
      );
      this.reads.set(key, {
        index: -1,
        leader: this.raw.leader,
        settle: (o) => {
          this.reads.delete(key);
          cleanup();
          if (o.ok) resolve(o.value);
          else reject(o.error);
        },
      });
    });
  }

  /**
   * Hands leadership to `to` and resolves once this member sees `to` as leader. Rejects
   * with TimeoutError (default: two election timeouts) or AbortError. Call it on any
   * member; a follower forwards the request to the leader.
   */
  transferLeadership(to: NodeId, options: CallOptions = {}): Promise<void> {
    const refused = this.refuse(options.signal, options.timeoutMs);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.raw.leader === to) return Promise.resolve();
    try {
      this.raw.transferLeadership(to);
    } catch (e) {
      return Promise.reject(e);
    }
    this.notify();
    return new Promise<void>((resolve, reject) => {
      const stop = this.onLeaderChange((e) => {
        if (e.leader === to) {
          stop();
          cleanup();
          resolve();
        }
      });
      const cleanup = this.guard(
        { ...options, timeoutMs: options.timeoutMs ?? this.electionTimeoutMs() * 2 },
        (error) => {
          stop();
          reject(error);
        },
      );
    });
  }

  /** Campaigns now instead of waiting for the election timeout. */
  campaign(): void {
    if (this.stopped) return;
    this.raw.campaign();
    this.notify();
  }

  /** Calls `listener` on every change of leader seen here; returns a function that unsubscribes. */
  onLeaderChange(listener: (e: LeaderChange) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  status(): RaftNodeStatus {
    return { ...this.raw.status(), appliedIndex: this.applied };
  }

  /** The leader this member knows of, 0 if none. */
  get leader(): NodeId {
    return this.raw.leader;
  }

  get isLeader(): boolean {
    return this.raw.role === Role.Leader;
  }

  /** True once the node was closed or stopped by an error. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * The error that stopped the node (a storage or state-machine failure), if any. After
   * such an error Raft's state is ahead of storage, so the node must be restarted from
   * its log store.
   */
  get stopError(): Error | undefined {
    return this.fatal;
  }

  /**
   * Stops the timer and the loop (after the Ready in progress), and rejects every waiting
   * proposal and read with StoppedError. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.timer !== undefined) clearInterval(this.timer);
      this.notify();
    }
    await this.loop;
    while (this.applying !== undefined) await this.applying;
    const hardState = this.unsavedHardState;
    this.unsavedHardState = undefined;
    if (hardState !== undefined && this.fatal === undefined) {
      // Not needed for safety (see handleReady); it saves a restart some catching up.
      await this.logStore.save(hardState, [], { sync: false }).catch((e: unknown) => {
        this.logger.warn({ err: e, id: this.id }, "saving the commit index on close failed");
      });
    }
    this.failAll(new StoppedError("the raft node is stopped", { cause: this.fatal }));
    for (const s of this.incomingSnapshots.values()) s.done(new StoppedError());
    this.incomingSnapshots.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------------ the loop

  private notify(): void {
    const w = this.wake;
    if (w !== undefined) {
      this.wake = undefined;
      w();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.raw.hasReady()) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      const rd = this.raw.ready();
      try {
        await this.handleReady(rd);
      } catch (e) {
        this.stopOnError(e);
        return;
      }
    }
  }

  /**
   * Raft's state is now ahead of what storage or the state machine holds; going on could
   * break its guarantees, so the node stops.
   */
  private stopOnError(e: unknown): void {
    if (this.fatal !== undefined) return;
    this.fatal = e instanceof Error ? e : new Error(String(e));
    this.logger.error({ err: this.fatal, id: this.id }, "raft node stopped by an error");
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.wake?.();
    this.failAll(new StoppedError("the raft node stopped after an error", { cause: this.fatal }));
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.leader, rd.softState.role);
    this.send(rd.messages);
    if (rd.snapshot !== undefined) await this.installSnapshot(rd.snapshot);
    if (rd.hardState !== undefined && !rd.mustSync && rd.entries.length === 0) {
      // Only the commit index moved. It is volatile state in Raft: a restarted member
      // learns it again from the leader, and `createRaftNode` raises it to what the state
      // machine applied. So it is not worth a write of its own (one per commit on every
      // member, queued in front of the next synced append); it is written with the next
      // save, or on close.
      this.unsavedHardState = rd.hardState;
    } else if (rd.hardState !== undefined || rd.entries.length > 0) {
      const hardState = rd.hardState ?? this.unsavedHardState;
      this.unsavedHardState = undefined;
      try {
        await this.logStore.save(hardState, rd.entries, { sync: rd.mustSync });
      } catch (e) {
        throw new StorageError("saving the raft log failed", { cause: e });
      }
    }
    this.send(rd.messagesAfterSave);
    if (rd.committedEntries.length > 0) {
      this.enqueueApply(rd.committedEntries);
      // A membership change must be in force before Raft goes on (votes from removed
      // members must not count), as etcd's server waits for its apply loop there.
      const confChange = rd.committedEntries.some((e) => e.type !== EntryType.Normal);
      if (confChange || this.applyBacklog > this.opts.maxApplyBacklogEntries)
        await this.drainApply();
    }
    for (const rs of rd.readStates) {
      const read = this.reads.get(contextKey(rs.context));
      if (read !== undefined) {
        read.index = rs.index;
        this.readsWaitingApply.push({ key: contextKey(rs.context), index: rs.index });
      }
    }
    this.raw.advance(rd);
    this.serveReads();
    if (this.metrics !== undefined) {
      const st = this.raw.hardState();
      this.metrics.setTerm(st.term);
      this.metrics.setCommit(st.commit);
      this.metrics.setApplied(this.applied);
    }
    await this.maybeCompact();
  }

  private send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    let hasSnapshot = false;
    for (const m of messages) if (m.type === MessageType.Snapshot) hasSnapshot = true;
    if (!hasSnapshot) {
      this.transport.send(messages);
      return;
    }
    for (const m of messages) if (m.type === MessageType.Snapshot) this.sendSnapshot(m);
    const plain = messages.filter((m) => m.type !== MessageType.Snapshot);
    if (plain.length > 0) this.transport.send(plain);
  }

  /**
   * Streams the state machine's current state to a follower. The metadata names the
   * point the data is at — the applied index, its term and the membership there — which
   * may be later than the log's compaction point Raft asked for (like etcd's merged
   * snapshot); the follower then holds at least what it needs.
   */
  /** Runs `work` when the state machine holds exactly the entries up to `applied`. */
  private atApplyPoint(work: () => void): void {
    if (this.applying === undefined) work();
    else this.atApplyBoundary.push(work);
  }

  private sendSnapshot(m: Message): void {
    this.atApplyPoint(() => this.sendSnapshotNow(m));
  }

  private sendSnapshotNow(m: Message): void {
    if (this.stopped) return;
    const index = this.applied;
    const term = this.raw.log().term(index);
    const meta: SnapshotMetadata = { index, term, confState: this.confStateAt(index) };
    const to = m.to;
    this.logger.info({ to, index, term }, "streaming snapshot");
    let data: AsyncIterable<Uint8Array>;
    try {
      data = this.sm.snapshot();
    } catch (e) {
      this.logger.error({ err: e, to }, "state machine could not produce a snapshot");
      this.raw.reportSnapshot(to, false);
      return;
    }
    this.transport.sendSnapshot({ ...m, snapshot: meta }, data).then(
      () => {
        if (this.stopped) return;
        this.raw.reportSnapshot(to, true);
        this.notify();
      },
      (e: unknown) => {
        if (this.stopped) return;
        this.logger.warn({ err: e, to }, "snapshot transfer failed");
        this.raw.reportSnapshot(to, false);
        this.raw.reportUnreachable(to);
        this.notify();
      },
    );
  }

  private async installSnapshot(meta: SnapshotMetadata): Promise<void> {
    const incoming = this.incomingSnapshots.get(meta.index);
    if (incoming === undefined) {
      throw new SnapshotError(`snapshot ${meta.index} must be installed but its data is not here`);
    }
    this.incomingSnapshots.delete(meta.index);
    try {
      await this.drainApply();
      await this.sm.restore(meta, incoming.data);
      await this.logStore.applySnapshot(meta);
    } catch (e) {
      const err = new SnapshotError(`installing snapshot ${meta.index} failed`, { cause: e });
      incoming.done(err);
      throw err;
    }
    incoming.done();
    // Older transfers that arrived meanwhile are superseded.
    for (const [index, s] of this.incomingSnapshots) {
      if (index <= meta.index) {
        this.incomingSnapshots.delete(index);
        s.done();
      }
    }
    this.applied = meta.index;
    this.confState = meta.confState;
    this.confHistory = [{ index: meta.index, confState: meta.confState }];
    // Proposals the snapshot covers may or may not be in it: their outcome is unknown.
    for (const [index, p] of this.proposals) {
      if (index > meta.index) continue;
      this.proposals.delete(index);
      for (let q: PendingProposal | undefined = p; q !== undefined; q = q.next) {
        this.pendingCount--;
        q.settle({
          ok: false,
          error: new ProposalOutcomeUnknownError(
            `entry ${index} was covered by a snapshot from the leader before it was applied here`,
          ),
        });
      }
    }
    this.logger.info({ index: meta.index, term: meta.term }, "installed snapshot");
  }

  private enqueueApply(entries: Entry[]): void {
    this.applyQueue.push(entries);
    this.applyBacklog += entries.length;
    if (this.applying === undefined) this.applying = this.runApply();
  }

  /** Applies queued batches one after another, in log order, beside the Ready loop. */
  private async runApply(): Promise<void> {
    try {
      for (;;) {
        const batch = this.applyQueue.shift();
        if (batch === undefined) break;
        await this.apply(batch);
        this.applyBacklog -= batch.length;
        this.serveReads();
        this.metrics?.setApplied(this.applied);
        if (this.applyQueue.length > 0 && this.atApplyBoundary.length > 0) this.runBoundaryWork();
      }
    } catch (e) {
      this.applyQueue = [];
      this.applyBacklog = 0;
      this.stopOnError(e);
    } finally {
      this.applying = undefined;
      this.runBoundaryWork();
    }
  }

  private runBoundaryWork(): void {
    const work = this.atApplyBoundary;
    this.atApplyBoundary = [];
    for (const w of work) w();
  }

  /** Resolves once every committed entry handed out so far has been applied. */
  private async drainApply(): Promise<void> {
    while (this.applying !== undefined) await this.applying;
    if (this.fatal !== undefined) throw this.fatal;
  }

  private async apply(entries: Entry[]): Promise<void> {
    // Entries at or below the applied index are already in the state machine (it was
    // restored from a snapshot ahead of the log); Raft still sees their membership changes.
    let skip = 0;
    while (skip < entries.length && entries[skip]!.index <= this.applied) skip++;
    const fresh = skip === 0 ? entries : entries.slice(skip);
    let results: R[] = [];
    if (fresh.length > 0) {
      try {
        results = await this.sm.apply(fresh);
      } catch (e) {
        throw new StorageError(`the state machine failed to apply entries ${fresh[0]!.index}..`, {
          cause: e,
        });
      }
    }
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let value: unknown = i < skip ? undefined : results[i - skip];
      let error: Error | undefined;
      if (e.type !== EntryType.Normal) {
        const r = this.applyConfChangeEntry(e);
        if (r instanceof Error) error = r;
        else value = r;
      }
      if (e.index > this.applied) this.applied = e.index;
      const p = this.proposals.get(e.index);
      if (p === undefined) continue;
      this.proposals.delete(e.index);
      for (let q: PendingProposal | undefined = p; q !== undefined; q = q.next) {
        this.pendingCount--;
        if (q.term !== e.term) {
          this.metrics?.proposals("dropped");
          q.settle({ ok: false, error: new ProposalDroppedError("overwritten") });
        } else if (error !== undefined) {
          this.metrics?.proposals("refused");
          q.settle({ ok: false, error });
        } else {
          this.metrics?.proposals("applied");
          q.settle({ ok: true, value });
        }
      }
    }
  }

  private applyConfChangeEntry(e: Entry): ConfState | Error {
    try {
      const cc =
        e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
      const cs = this.raw.applyConfChange(cc);
      this.confState = cs;
      this.confHistory.push({ index: e.index, confState: cs });
      this.logger.info({ index: e.index, confState: cs }, "applied configuration change");
      return cs;
    } catch (err) {
      if (err instanceof RaftError) {
        // Every member sees the same invalid change and ignores it alike.
        this.logger.warn({ err, index: e.index }, "ignored an invalid configuration change");
        return err instanceof InvalidConfChangeError
          ? err
          : new InvalidConfChangeError("invalid configuration change entry", { cause: err });
      }
      throw err;
    }
  }

  private confStateAt(index: number): ConfState {
    let cs = this.confHistory[0]!.confState;
    for (const h of this.confHistory) {
      if (h.index <= index) cs = h.confState;
      else break;
    }
    return cs;
  }

  private async maybeCompact(): Promise<void> {
    const every = this.opts.snapshotEntries;
    if (every <= 0) return;
    const first = this.logStore.firstIndex();
    if (this.applied - first + 1 <= every) return;
    const durable = this.sm.appliedIndex();
    const at = Math.min(durable, this.applied - this.opts.compactionKeepEntries);
    if (at < first) return;
    const confState = this.confStateAt(at);
    try {
      await this.logStore.compact(at, confState);
    } catch (e) {
      throw new StorageError(`compacting the log at ${at} failed`, { cause: e });
    }
    // Keep the membership in force at the new compaction point, and what came after it.
    let keepFrom = 0;
    for (let i = 0; i < this.confHistory.length; i++)
      if (this.confHistory[i]!.index <= at) keepFrom = i;
    this.confHistory = this.confHistory.slice(keepFrom);
    this.logger.debug({ index: at }, "compacted the log");
  }

  private serveReads(): void {
    if (this.readsWaitingApply.length === 0) return;
    const still: Array<{ key: string; index: number }> = [];
    for (const w of this.readsWaitingApply) {
      if (w.index > this.applied) {
        still.push(w);
        continue;
      }
      this.reads.get(w.key)?.settle({ ok: true, value: w.index });
    }
    this.readsWaitingApply = still;
  }

  private onSoftState(leader: NodeId, role: Role): void {
    const change: LeaderChange = { leader, term: this.raw.term, role };
    const prev = this.lastLeader;
    this.lastLeader = change;
    if (prev.leader === leader) return;
    this.metrics?.leaderChanged();
    this.metrics?.setLeader(role === Role.Leader);
    this.logger.info({ id: this.id, term: change.term, leader, role }, "leader changed");
    // Read requests in flight were addressed to the old leader, which will not answer
    // them any more; fail them now rather than at their timeout.
    for (const [key, read] of this.reads) {
      if (read.index >= 0 || read.leader === leader) continue;
      this.reads.delete(key);
      read.settle({
        ok: false,
        error: new ReadIndexDroppedError("the leader changed before the read index arrived; retry"),
      });
    }
    for (const l of this.leaderListeners) {
      try {
        l(change);
      } catch (e) {
        this.logger.warn({ err: e }, "a leader-change listener threw");
      }
    }
  }

  // ------------------------------------------------------------------ transport handler

  private onMessages(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.type === MessageType.Snapshot) {
        this.logger.warn({ from: m.from }, "snapshot message without data ignored");
        continue;
      }
      try {
        this.raw.step(m);
      } catch (e) {
        if (!(e instanceof InvalidMessageError)) throw e;
        this.logger.warn({ err: e, from: m.from, type: m.type }, "dropped an invalid message");
      }
    }
    this.notify();
  }

  private onSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError());
    const meta = message.snapshot;
    if (meta === undefined) {
      return Promise.reject(new InvalidMessageError("snapshot message without metadata"));
    }
    return new Promise<void>((resolve, reject) => {
      const previous = this.incomingSnapshots.get(meta.index);
      previous?.done();
      this.incomingSnapshots.set(meta.index, {
        data,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      });
      try {
        this.raw.step(message);
      } catch (e) {
        this.incomingSnapshots.delete(meta.index);
        reject(e);
        return;
      }
      // Raft installs it only if the log does not already hold it; otherwise the data
      // is not needed and the transfer is complete.
      const pending = this.raw.pendingSnapshot();
      if (pending === undefined || pending.index !== meta.index || pending.term !== meta.term) {
        this.incomingSnapshots.delete(meta.index);
        resolve();
      }
      this.notify();
    });
  }

  // ------------------------------------------------------------------ helpers

  private refuse(signal: AbortSignal | undefined, timeoutMs?: number): Error | undefined {
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      return new InvalidConfigError(
        `timeoutMs must be a positive number, got ${String(timeoutMs)}`,
      );
    }
    if (this.stopped) return new StoppedError("the raft node is stopped", { cause: this.fatal });
    if (signal?.aborted)
      return new AbortError("the operation was aborted", { cause: signal.reason });
    return undefined;
  }

  /** Registers a pending proposal at `index` and returns its promise. */
  private track<T>(index: number, term: number, options: CallOptions): Promise<T> {
    this.pendingCount++;
    return new Promise<T>((resolve, reject) => {
      const p: PendingProposal = {
        term,
        next: this.proposals.get(index),
        settle: (o) => {
          cleanup();
          if (o.ok) resolve(o.value as T);
          else reject(o.error);
        },
      };
      this.proposals.set(index, p);
      const cleanup = this.guard(options, (error) => {
        // Stop waiting, but the entry stays in the log and may still be applied.
        this.removeProposal(index, p);
        reject(error);
      });
    });
  }

  private removeProposal(index: number, p: PendingProposal): void {
    let head = this.proposals.get(index);
    if (head === p) {
      if (p.next === undefined) this.proposals.delete(index);
      else this.proposals.set(index, p.next);
      this.pendingCount--;
      return;
    }
    while (head !== undefined && head.next !== p) head = head.next;
    if (head !== undefined) {
      head.next = p.next;
      this.pendingCount--;
    }
  }

  /**
   * Arms the timeout and abort signal of a call; `fail` runs at most once, with
   * TimeoutError or AbortError. Returns a function that disarms both.
   */
  private guard(options: CallOptions, fail: (error: Error) => void): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const signal = options.signal;
    let done = false;
    const onAbort = () => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      fail(new AbortError("the operation was aborted", { cause: signal?.reason }));
    };
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (done) return;
        done = true;
        signal?.removeEventListener("abort", onAbort);
        fail(new TimeoutError(`no outcome within ${options.timeoutMs} ms; the outcome is unknown`));
      }, options.timeoutMs);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    return () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
  }

  private failAll(error: Error): void {
    for (const [index, p] of this.proposals) {
      this.proposals.delete(index);
      for (let q: PendingProposal | undefined = p; q !== undefined; q = q.next)
        q.settle({ ok: false, error });
    }
    this.pendingCount = 0;
    for (const read of [...this.reads.values()]) read.settle({ ok: false, error });
    this.reads.clear();
    this.readsWaitingApply = [];
  }

  private electionTimeoutMs(): number {
    return this.opts.tickMs * this.opts.electionTick;
  }
}

function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.byteLength; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/**
 * Starts a Raft member: loads its state from the log store (bootstrapping a new cluster
 * from `peers` on first start), replays the membership changes after the state machine's
 * applied index, and starts the transport, the tick timer and the Ready loop.
 *
 * Throws InvalidConfigError for bad options (or a first start with neither `peers` nor
 * `join`), and StorageError when the stored state is inconsistent — for instance a state
 * machine behind the log's snapshot, which only a snapshot from the leader could restore.
 */
export async function createRaftNode<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
  const { logStore, stateMachine } = options;
  if (options.tickMs !== undefined && !(Number.isFinite(options.tickMs) && options.tickMs > 0)) {
    throw new InvalidConfigError(`tickMs must be a positive number, got ${String(options.tickMs)}`);
  }
  const init = await logStore.load();
  let hardState = init.hardState;
  let confState = init.confState;
  const snap = logStore.snapshotMetadata();
  const isNew = hardState.term === 0 && logStore.lastIndex() === 0 && snap.index === 0;
  if (isNew && options.join !== true) {
    if (options.peers === undefined || options.peers.length === 0) {
      throw new InvalidConfigError(
        "a new member needs `peers` to found a cluster, or `join: true`",
      );
    }
    const b = bootstrapState(options.peers, options.learners ?? []);
    await logStore.save(b.hardState, b.entries, { sync: true });
    hardState = b.hardState;
    confState = {
      voters: [],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
  }
  const smApplied = stateMachine.appliedIndex();
  if (smApplied < snap.index) {
    throw new StorageError(
      `the state machine has applied up to ${smApplied} but the log starts after its snapshot at ${snap.index}; ` +
        "restore the state machine from a snapshot first (a volatile state machine needs snapshotEntries: 0)",
    );
  }
  // A crash between restoring the state machine from a leader's snapshot and recording
  // that snapshot in the log store leaves the state machine ahead of the log. Raft then
  // starts from the log's end; entries the state machine already holds are not applied
  // again (see RaftNode.apply), and the leader brings the log up to date.
  const lastIndex = logStore.lastIndex();
  const raftApplied = Math.min(Math.max(smApplied, snap.index), lastIndex);
  if (smApplied > lastIndex) {
    options.logger?.warn(
      { smApplied, lastIndex },
      "the state machine is ahead of the log (crash during a snapshot install); catching the log up",
    );
  }
  // What the state machine applied was committed, even if the commit index saved with the
  // hard state (synced lazily) is older.
  if (hardState.commit < raftApplied) hardState = { ...hardState, commit: raftApplied };
  const rawOptions: RawNodeOptions = {
    id: options.id,
    storage: logStore,
    hardState,
    confState,
    applied: raftApplied,
    electionTick: options.electionTick,
    heartbeatTick: options.heartbeatTick,
    maxSizePerMsg: options.maxSizePerMsg,
    maxCommittedSizePerReady: options.maxCommittedSizePerReady,
    maxInflightMsgs: options.maxInflightMsgs,
    maxInflightBytes: options.maxInflightBytes,
    maxUncommittedEntriesSize: options.maxUncommittedEntriesSize,
    maxPendingReadIndex: options.maxPendingReadIndex,
    preVote: options.preVote,
    checkQuorum: options.checkQuorum,
    rng: createRng(randomInt(0x7fff_ffff)),
    logger: options.logger,
  };
  const raw = new RawNode(rawOptions);
  // Membership changes the state machine already applied must be replayed into Raft: its
  // configuration starts from the snapshot's.
  let confIndex = snap.index;
  let lo = snap.index + 1;
  while (lo <= raftApplied) {
    const ents = logStore.entries(lo, raftApplied + 1, 8 * 1024 * 1024);
    for (const e of ents) {
      if (e.type === EntryType.Normal) continue;
      try {
        const cc =
          e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
        confState = raw.applyConfChange(cc);
        confIndex = e.index;
      } catch (err) {
        if (!(err instanceof RaftError)) throw err;
      }
    }
    lo += ents.length;
  }
  const node = new RaftNode<R>(options, raw, Math.max(smApplied, snap.index), confState, confIndex);
  await node.start(options.signal);
  return node;
}
