import { confChangeToV2, wantsLeaveJoint } from "./conf-change.js";
import { IllegalStateError, InvalidConfigError, LeaderNotFoundError } from "./errors.js";
import type { LogReader } from "./log-store.js";
import { type Logger, silentLogger } from "./logger.js";
import type { ProgressState } from "./progress.js";
import { Raft, type RaftConfig } from "./raft.js";
import { hardStateEqual, type Ready } from "./ready.js";
import { createRng, type Rng } from "./rng.js";
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
  type SoftState,
} from "./types.js";
import { encodeConfChange, encodeConfChangeV2 } from "./wire.js";

/** Options of a RawNode. Every limit has a default; see each option. */
export interface RawNodeOptions {
  /** This member's id: a positive safe integer, unique in the cluster. */
  id: NodeId;
  /** Synchronous reads of the durable log (`LogStore` implements it). */
  storage: LogReader;
  /** The hard state loaded from storage. Default: term 0, no vote, commit 0 (a new member). */
  hardState?: HardState | undefined;
  /**
   * The membership to start with: on a restart, what storage loaded; for a new cluster,
   * the initial voters (every member must start with the same). Default: the storage
   * snapshot's ConfState.
   */
  confState?: ConfState | undefined;
  /**
   * The index already applied to the state machine; committed entries after it are
   * handed out again. Default 0. Never below the storage snapshot's index.
   */
  applied?: number | undefined;
  /**
   * Ticks a follower waits without hearing from a leader before campaigning; the actual
   * timeout is randomized in `[electionTick, 2 * electionTick)`. Default 10. Must exceed
   * `heartbeatTick`.
   */
  electionTick?: number | undefined;
  /** Ticks between a leader's heartbeats. Default 1. */
  heartbeatTick?: number | undefined;
  /** Maximum payload bytes of entries in one append message (at least one entry is sent). Default 1 MiB. */
  maxSizePerMsg?: number | undefined;
  /** Maximum payload bytes of committed entries in one Ready (at least one entry). Default 8 MiB. */
  maxCommittedSizePerReady?: number | undefined;
  /** Maximum append messages in flight to one follower while replicating. Default 256. */
  maxInflightMsgs?: number | undefined;
  /** Maximum entry payload bytes in flight to one follower. Default 32 MiB. */
  maxInflightBytes?: number | undefined;
  /**
   * Maximum payload bytes the leader accepts but has not yet applied; beyond it,
   * proposals fail with ProposalDroppedError ("uncommitted-size-exceeded"). Default 64 MiB.
   */
  maxUncommittedEntriesSize?: number | undefined;
  /** Maximum read-index requests waiting at the leader. Default 4096. */
  maxPendingReadIndex?: number | undefined;
  /** Run a pre-vote before each election (Raft thesis §9.6). Default true. */
  preVote?: boolean | undefined;
  /** A leader steps down when it cannot hear a quorum for an election timeout. Default true. */
  checkQuorum?: boolean | undefined;
  /** Source of randomness for election timeouts. Default: `createRng(id)`. */
  rng?: Rng | undefined;
  logger?: Logger | undefined;
}

/** What the leader knows of one member's replication. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  /** True when no append may be sent to it now. */
  paused: boolean;
  recentActive: boolean;
  isLearner: boolean;
  /** Append messages in flight. */
  inflight: number;
}

/**
 * A read-only view of a member's log, including entries not yet durable; for tests,
 * simulations and debugging. Reads are synchronous and do not change anything.
 */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  /** The term at `index`, or 0 when it is compacted or beyond the last index. */
  term(index: number): number;
  /** Entries in `[lo, hi)`; throws CompactedError / UnavailableError outside the log. */
  entries(lo: number, hi: number): Entry[];
  readonly committed: number;
  readonly applied: number;
}

/** A point-in-time view of a member, for monitoring and debugging. */
export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  /** The leader this member knows of, 0 if none. */
  lead: NodeId;
  role: Role;
  firstIndex: number;
  lastIndex: number;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Set on the leader: every member's progress, by id. */
  progress?: Map<NodeId, ProgressStatus> | undefined;
}

const MiB = 1024 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new InvalidConfigError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return v;
}

function resolveConfig(o: RawNodeOptions): RaftConfig {
  if (!Number.isSafeInteger(o.id) || o.id <= 0) {
    throw new InvalidConfigError(`id must be a positive safe integer, got ${String(o.id)}`);
  }
  if (o.storage === undefined || o.storage === null) {
    throw new InvalidConfigError("storage is required");
  }
  const heartbeatTick = positiveInt("heartbeatTick", o.heartbeatTick, 1);
  const electionTick = positiveInt("electionTick", o.electionTick, 10);
  if (electionTick <= heartbeatTick) {
    throw new InvalidConfigError(
      `electionTick (${electionTick}) must be greater than heartbeatTick (${heartbeatTick})`,
    );
  }
  const snap = o.storage.snapshotMetadata();
  const hardState = o.hardState ?? { term: 0, vote: 0, commit: 0 };
  for (const k of ["term", "vote", "commit"] as const) {
    const v = hardState[k];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidConfigError(
        `hardState.${k} must be a non-negative integer, got ${String(v)}`,
      );
    }
  }
  const applied = o.applied ?? 0;
  if (!Number.isSafeInteger(applied) || applied < 0) {
    throw new InvalidConfigError(`applied must be a non-negative integer, got ${String(applied)}`);
  }
  if (applied > Math.max(hardState.commit, snap.index)) {
    throw new InvalidConfigError(
      `applied (${applied}) is beyond the commit index (${hardState.commit})`,
    );
  }
  const confState = o.confState ?? snap.confState;
  checkConfState(confState);
  return {
    id: o.id,
    storage: o.storage,
    hardState,
    confState,
    applied,
    electionTick,
    heartbeatTick,
    maxSizePerMsg: positiveInt("maxSizePerMsg", o.maxSizePerMsg, MiB),
    maxCommittedSizePerReady: positiveInt(
      "maxCommittedSizePerReady",
      o.maxCommittedSizePerReady,
      8 * MiB,
    ),
    maxInflightMsgs: positiveInt("maxInflightMsgs", o.maxInflightMsgs, 256),
    maxInflightBytes: positiveInt("maxInflightBytes", o.maxInflightBytes, 32 * MiB),
    maxUncommittedEntriesSize: positiveInt(
      "maxUncommittedEntriesSize",
      o.maxUncommittedEntriesSize,
      64 * MiB,
    ),
    maxPendingReadIndex: positiveInt("maxPendingReadIndex", o.maxPendingReadIndex, 4096),
    preVote: o.preVote ?? true,
    checkQuorum: o.checkQuorum ?? true,
    rng: o.rng ?? createRng(o.id),
    logger: o.logger ?? silentLogger,
  };
}

function checkConfState(cs: ConfState): void {
  const lists = [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext];
  if (!lists.every((l) => Array.isArray(l))) {
    throw new InvalidConfigError(
      "confState needs voters, learners, votersOutgoing and learnersNext arrays",
    );
  }
  for (const l of lists) {
    for (const id of l) {
      if (!Number.isSafeInteger(id) || id <= 0) {
        throw new InvalidConfigError(`confState holds an invalid member id ${String(id)}`);
      }
    }
  }
  for (const id of cs.learners) {
    if (cs.voters.includes(id) || cs.votersOutgoing.includes(id)) {
      throw new InvalidConfigError(`confState lists member ${id} as both voter and learner`);
    }
  }
}

/** Where a proposal landed in the log. */
export interface ProposalPosition {
  /** The index of the (first) entry. */
  index: number;
  /** The leader's term, which the entry carries. */
  term: number;
}

/**
 * The Raft consensus algorithm as a synchronous, deterministic state machine, after
 * etcd-io/raft's RawNode. It performs no I/O, owns no timer and reads no clock: time
 * advances with `tick()`, messages come in through `step()`, and all work to do comes out
 * of `ready()` — to be persisted, sent and applied by the caller, then acknowledged with
 * `advance()`. `RaftNode` is a driver that does this over a LogStore, Transport and
 * StateMachine; simulations drive a RawNode directly.
 *
 * All methods throw typed errors (`RaftError` subclasses) on bad input and change
 * nothing then.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | undefined;
  /** Messages to this member itself, delivered when the Ready carrying them is advanced. */
  private selfMessages: Message[] = [];
  private logView: LogView | undefined;

  /** Throws InvalidConfigError when an option is out of range. */
  constructor(options: RawNodeOptions) {
    this.raft = new Raft(resolveConfig(options));
    this.prevSoftState = this.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick: election timeouts, heartbeats, check-quorum. */
  tick(): void {
    this.raft.tick();
  }

  /** Campaigns now instead of waiting for the election timeout (with pre-vote if enabled). */
  campaign(): void {
    this.raft.hup(false);
  }

  /**
   * Proposes one entry. On the leader, appends it and returns its position; the entry is
   * applied once `committedEntries` hands it out — or never, if a new leader overwrites
   * it (the entry then applied at that index has another term).
   *
   * Throws NotLeaderError (with the leader's id) on a follower that knows the leader,
   * LeaderNotFoundError when there is none, and ProposalDroppedError when the uncommitted
   * log is over `maxUncommittedEntriesSize` or a leadership transfer is in progress.
   */
  propose(data: Uint8Array): ProposalPosition {
    return this.raft.propose([{ term: 0, index: 0, type: EntryType.Normal, data }]);
  }

  /** Proposes several entries at once, at consecutive indexes from the returned one; throws like `propose`. */
  proposeBatch(datas: readonly Uint8Array[]): ProposalPosition {
    const entries: Entry[] = new Array(datas.length);
    for (let i = 0; i < datas.length; i++) {
      entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: datas[i]! };
    }
    return this.raft.propose(entries);
  }

  /**
   * Proposes a membership change. It takes effect when the application, on applying the
   * committed entry, calls `applyConfChange`. Throws like `propose`, and
   * ProposalDroppedError ("conf-change-rejected") while another change is unapplied or
   * when it does not fit the joint state.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2): ProposalPosition {
    if ("transition" in cc) {
      return this.raft.proposeConfChange(
        { term: 0, index: 0, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) },
        wantsLeaveJoint(cc),
      );
    }
    return this.raft.proposeConfChange(
      { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) },
      false,
    );
  }

  /**
   * Applies a committed membership change (call it when applying the entry) and returns
   * the new ConfState. Throws InvalidConfChangeError, changing nothing, when the change
   * does not fit the current configuration; all members then ignore it alike.
   */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange("transition" in cc ? cc : confChangeToV2(cc));
  }

  /**
   * Takes in a message from a peer. Throws InvalidMessageError for a malformed message
   * (unknown or local-only type, wrong recipient, bad numbers, non-contiguous entries).
   * Responses from members not in the configuration are ignored.
   */
  step(m: Message): void {
    if (isResponse(m.type) && !this.raft.prs.progress.has(m.from)) return;
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read. When it is safe, a ReadState with this `context` and
   * the read index appears in a Ready; serve the read once the state machine has applied
   * that index. On a follower the request is forwarded to the leader. A request may be
   * lost (leader change, message loss), so callers need a timeout.
   * Throws LeaderNotFoundError when no leader is known and ReadIndexDroppedError when
   * the leader's queue (`maxPendingReadIndex`) is full.
   */
  readIndex(context: Uint8Array): void {
    const r = this.raft;
    if (r.role === Role.Leader) {
      r.handleReadIndexRequest(r.id, context);
      return;
    }
    if (r.lead === 0) throw new LeaderNotFoundError();
    r.msgs.push({
      type: MessageType.ReadIndex,
      to: r.lead,
      from: r.id,
      term: r.term,
      logTerm: 0,
      index: 0,
      entries: [{ term: 0, index: 0, type: EntryType.Normal, data: context }],
      commit: 0,
      reject: false,
      rejectHint: 0,
    });
  }

  /**
   * Hands leadership to `to` (Raft thesis §3.10): the leader stops accepting proposals,
   * brings `to` up to date, and tells it to campaign at once. The transfer is abandoned
   * after an election timeout. On a follower, the request is forwarded to the leader.
   */
  transferLeadership(to: NodeId): void {
    const r = this.raft;
    if (r.role === Role.Leader) {
      r.transferLeadership(to);
      return;
    }
    if (r.lead === 0) throw new LeaderNotFoundError();
    r.msgs.push({
      type: MessageType.TransferLeader,
      to: r.lead,
      from: to,
      term: r.term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
    });
  }

  /** Tells the leader that the last messages to `id` could not be delivered. */
  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  /** Tells the leader whether the snapshot sent to `id` was installed. */
  reportSnapshot(id: NodeId, success: boolean): void {
    this.raft.reportSnapshot(id, success);
  }

  /**
   * True when `ready()` has work. Meaningful only while no Ready is outstanding (between
   * `advance` and the next `ready`).
   */
  hasReady(): boolean {
    const r = this.raft;
    r.flush();
    if (r.msgs.length > 0 || r.msgsAfterSave.length > 0 || r.readStates.length > 0) return true;
    const log = r.raftLog;
    if (log.unstable.entries.length > 0 || log.unstable.snapshot !== undefined) return true;
    if (log.hasNextCommittedEntries()) return true;
    const ss = this.prevSoftState;
    if (r.lead !== ss.leader || r.role !== ss.role) return true;
    const hs = this.prevHardState;
    return r.term !== hs.term || r.vote !== hs.vote || log.committed !== hs.commit;
  }

  /**
   * Collects the work to do; see `Ready` for how to process it. Returns an empty Ready
   * when there is nothing. Throws IllegalStateError while a previous Ready is outstanding.
   */
  ready(): Ready {
    if (this.outstanding !== undefined) {
      throw new IllegalStateError("ready() called again before advance() of the previous Ready");
    }
    const r = this.raft;
    r.flush();
    const log = r.raftLog;
    const rd: Ready = {
      entries: log.unstable.takeEntries(),
      committedEntries: r.nextCommittedEntries(),
      readStates: r.readStates,
      messages: groupByDestination(r.msgs),
      messagesAfterSave: [],
      mustSync: false,
    };
    if (log.unstable.snapshot !== undefined) rd.snapshot = log.unstable.snapshot;
    r.readStates = [];
    r.msgs = [];
    const after = r.msgsAfterSave;
    r.msgsAfterSave = [];
    const external: Message[] = [];
    for (let i = 0; i < after.length; i++) {
      const m = after[i]!;
      if (m.to === r.id) this.selfMessages.push(m);
      else external.push(m);
    }
    rd.messagesAfterSave = groupByDestination(external);
    const ss = this.softState();
    if (ss.leader !== this.prevSoftState.leader || ss.role !== this.prevSoftState.role) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    const prev = this.prevHardState;
    if (!hardStateEqual(hs, prev)) {
      rd.hardState = hs;
      this.prevHardState = hs;
    }
    rd.mustSync =
      rd.entries.length > 0 ||
      rd.snapshot !== undefined ||
      hs.term !== prev.term ||
      hs.vote !== prev.vote;
    this.outstanding = rd;
    return rd;
  }

  /**
   * Acknowledges that a Ready was processed: its entries and hard state are durable, its
   * snapshot installed, its committed entries applied. Throws IllegalStateError when `rd`
   * is not the outstanding Ready.
   */
  advance(rd: Ready): void {
    if (this.outstanding !== rd) {
      throw new IllegalStateError("advance() called with a Ready that is not outstanding");
    }
    this.outstanding = undefined;
    const r = this.raft;
    const log = r.raftLog;
    if (rd.snapshot !== undefined) {
      log.stableSnapTo(rd.snapshot.index);
      log.appliedTo(rd.snapshot.index);
    }
    const n = rd.entries.length;
    if (n > 0) {
      const last = rd.entries[n - 1]!;
      log.stableTo(last.index, last.term);
    }
    const c = rd.committedEntries.length;
    if (c > 0) {
      log.appliedTo(rd.committedEntries[c - 1]!.index);
      r.reduceUncommittedSize(rd.committedEntries);
    }
    const self = this.selfMessages;
    if (self.length > 0) {
      this.selfMessages = [];
      for (const m of self) {
        if (m.type === MessageType.VoteResponse) r.acceptSelfVote(m.term);
      }
    }
    if (n > 0) r.selfAck(log.persistedIndex());
    // Retried on every advance: a first attempt may have been refused (a transfer in
    // progress), and nothing else would bring it back.
    r.maybeAutoLeave();
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  /** The current state, including (on the leader) every member's progress. */
  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      role: r.role,
      firstIndex: r.raftLog.firstIndex(),
      lastIndex: r.raftLog.lastIndex(),
      leadTransferee: r.leadTransferee,
      confState: r.prs.confState(),
    };
    if (r.role === Role.Leader) {
      const progress = new Map<NodeId, ProgressStatus>();
      for (const [id, pr] of r.prs.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          paused: pr.isPaused(),
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count,
        });
      }
      st.progress = progress;
    }
    return st;
  }

  /** A read-only view of the log, including its unstable tail. The same object every call. */
  log(): LogView {
    if (this.logView === undefined) {
      const log = this.raft.raftLog;
      this.logView = {
        firstIndex: () => log.firstIndex(),
        lastIndex: () => log.lastIndex(),
        term: (index) => log.termOrZero(index),
        entries: (lo, hi) => log.slice(lo, hi, Number.POSITIVE_INFINITY),
        get committed() {
          return log.committed;
        },
        get applied() {
          return log.applied;
        },
      };
    }
    return this.logView;
  }

  /**
   * The snapshot received from the leader and waiting to be installed (it comes out in a
   * Ready), if any.
   */
  pendingSnapshot(): SnapshotMetadata | undefined {
    return this.raft.raftLog.unstable.snapshot;
  }

  /** This member's role now. */
  get role(): Role {
    return this.raft.role;
  }

  /** The current term. */
  get term(): number {
    return this.raft.term;
  }

  /** The leader this member knows of, 0 if none. */
  get leader(): NodeId {
    return this.raft.lead;
  }

  /** The term, vote and commit index now (they may not be durable yet). */
  hardState(): HardState {
    return this.raft.hardState();
  }
}

function isResponse(type: MessageType): boolean {
  return (
    type === MessageType.AppendResponse ||
    type === MessageType.VoteResponse ||
    type === MessageType.PreVoteResponse ||
    type === MessageType.HeartbeatResponse
  );
}

/**
 * Orders messages so that those for one destination are adjacent (a transport then sends
 * one batch per peer), keeping each destination's messages in their original order.
 */
function groupByDestination(msgs: Message[]): Message[] {
  if (msgs.length < 3) return msgs;
  let sorted = true;
  const seen = new Set<NodeId>();
  let prev = msgs[0]!.to;
  seen.add(prev);
  for (let i = 1; i < msgs.length; i++) {
    const to = msgs[i]!.to;
    if (to === prev) continue;
    if (seen.has(to)) {
      sorted = false;
      break;
    }
    seen.add(to);
    prev = to;
  }
  if (sorted) return msgs;
  const groups = new Map<NodeId, Message[]>();
  for (const m of msgs) {
    const g = groups.get(m.to);
    if (g === undefined) groups.set(m.to, [m]);
    else g.push(m);
  }
  const out: Message[] = [];
  for (const g of groups.values()) for (const m of g) out.push(m);
  return out;
}
