import { applyConfChangeTo } from "./conf-change.js";
import {
  InvalidConfigError,
  InvalidMessageError,
  LeaderNotFoundError,
  NotLeaderError,
  ProposalDroppedError,
  ReadIndexDroppedError,
} from "./errors.js";
import type { LogReader } from "./log-store.js";
import type { Logger } from "./logger.js";
import type { Progress } from "./progress.js";
import { ProgressState } from "./progress.js";
import {
  confStateFromTrackerConfig,
  ProgressTracker,
  type TrackerConfig,
  trackerConfigFromConfState,
} from "./progress-tracker.js";
import { VoteResult } from "./quorum.js";
import { entriesSize, entrySize, RaftLog } from "./raft-log.js";
import { decodeRoundContext, encodeRoundContext, ReadOnly } from "./read-only.js";
import type { Rng } from "./rng.js";
import {
  type ConfChangeV2,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  type ReadState,
  Role,
  type SnapshotMetadata,
} from "./types.js";

/** Resolved configuration of a Raft instance; see `RawNodeOptions` for meanings and defaults. */
export interface RaftConfig {
  id: NodeId;
  storage: LogReader;
  hardState: HardState;
  confState: ConfState;
  applied: number;
  electionTick: number;
  heartbeatTick: number;
  maxSizePerMsg: number;
  maxCommittedSizePerReady: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  maxUncommittedEntriesSize: number;
  maxPendingReadIndex: number;
  preVote: boolean;
  checkQuorum: boolean;
  rng: Rng;
  logger: Logger;
}

const EMPTY = new Uint8Array(0);

/** The context of a vote request sent because of a leadership transfer. */
const CAMPAIGN_TRANSFER = new TextEncoder().encode("CampaignTransfer");

function isTransferContext(ctx: Uint8Array | undefined): boolean {
  if (ctx === undefined || ctx.byteLength !== CAMPAIGN_TRANSFER.byteLength) return false;
  for (let i = 0; i < ctx.byteLength; i++) if (ctx[i] !== CAMPAIGN_TRANSFER[i]) return false;
  return true;
}

/** Message types whose sending promises something that must be durable first. */
function mustWaitForSave(type: MessageType): boolean {
  switch (type) {
    case MessageType.AppendResponse: // "I hold these entries"
    case MessageType.VoteResponse: // "I voted for you in this term"
    case MessageType.PreVoteResponse:
    case MessageType.HeartbeatResponse: // "I am in your term"
    case MessageType.Vote: // a candidate's own term and vote must survive a crash first
    case MessageType.PreVote:
      return true;
    default:
      return false;
  }
}

function newMessage(type: MessageType, to: NodeId, from: NodeId, term: number): Message {
  return {
    type,
    to,
    from,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

const MIN_MESSAGE_TYPE = MessageType.Append;
const MAX_MESSAGE_TYPE = MessageType.TransferLeader;

function isIndex(n: unknown): boolean {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** A read-index request waiting for the leader's first commit in its term. */
interface DeferredRead {
  from: NodeId;
  context: Uint8Array;
}

/**
 * The Raft state machine (Ongaro & Ousterhout, and the thesis): roles, elections with
 * pre-vote and check-quorum, log replication with flow control, ReadIndex, leadership
 * transfer and membership changes. Pure and synchronous; `RawNode` is its public face.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = 0;
  lead: NodeId = 0;
  role: Role = Role.Follower;
  readonly raftLog: RaftLog;
  readonly prs: ProgressTracker;
  /** Set while leadership is being handed to this member. */
  leadTransferee: NodeId = 0;
  /**
   * No configuration change may be proposed while one at or below this index is
   * unapplied: changes take effect one at a time.
   */
  pendingConfIndex = 0;
  /** Payload bytes the leader appended and has not yet seen applied. */
  uncommittedSize = 0;
  isLearner = false;

  /** Messages that may be sent now. */
  msgs: Message[] = [];
  /** Messages that must wait until the current unstable state is durable. */
  msgsAfterSave: Message[] = [];
  readStates: ReadState[] = [];

  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Ticks since this instance started; the clock of `Progress.lastActiveTick`. */
  tickCount = 0;
  randomizedElectionTimeout = 0;

  // Replication is flushed once per Ready rather than once per proposal or response, so
  // that everything that arrived since the previous Ready travels in one message per
  // follower (see flush()).
  private appendPending = false;
  private commitPending = false;

  private readonly readOnly: ReadOnly;
  private deferredReads: DeferredRead[] = [];
  private readonly cfg: RaftConfig;
  private readonly logger: Logger;

  constructor(cfg: RaftConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.logger = cfg.logger;
    this.raftLog = new RaftLog(cfg.storage, cfg.hardState.commit, cfg.applied);
    this.prs = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    this.readOnly = new ReadOnly(cfg.maxPendingReadIndex);
    this.prs.setConfig(trackerConfigFromConfState(cfg.confState), this.raftLog.lastIndex() + 1);
    this.isLearner = this.prs.config.learners.has(this.id);
    const hs = cfg.hardState;
    if (hs.commit > this.raftLog.lastIndex()) {
      throw new InvalidConfigError(
        `hard state commit ${hs.commit} is beyond the last log index ${this.raftLog.lastIndex()}; ` +
          "the log store lost entries it acknowledged",
      );
    }
    this.becomeFollower(hs.term, 0);
    this.vote = hs.vote;
  }

  // ---------------------------------------------------------------- state queries

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /**
   * True when this member may campaign: it is not installing a snapshot, and it is a
   * voter — or it was removed from a configuration that still has voters. A removed
   * member may hold entries the remaining voters lack, including the committed change
   * that removed it; if they still apply the joint configuration before that change, they
   * need its vote, which its longer log refuses. Letting it lead (elected by a quorum of
   * its configuration, which it is not part of) settles that; it then hands leadership
   * over at once. Pre-vote and the leader lease keep a stale removed member from
   * disrupting a healthy cluster. Learners never campaign.
   */
  promotable(): boolean {
    if (this.raftLog.unstable.snapshot !== undefined) return false;
    if (this.prs.config.learners.has(this.id) || this.prs.config.learnersNext.has(this.id)) {
      return false;
    }
    if (this.prs.isVoter(this.id)) return true;
    return !this.prs.progress.has(this.id) && this.prs.config.voters.ids().length > 0;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  // ---------------------------------------------------------------- sending

  private send(m: Message): void {
    if (m.to === this.id || mustWaitForSave(m.type)) this.msgsAfterSave.push(m);
    else this.msgs.push(m);
  }

  /**
   * Sends what replication owes since the last flush: new entries to every follower that
   * can take them, and the new commit index to those that got nothing else. Called once
   * per Ready, which is what batches proposals into one append per follower.
   */
  flush(): void {
    if (this.readOnly.needsRound()) this.startReadRound();
    if (!this.appendPending && !this.commitPending) return;
    const sendCommit = this.commitPending;
    this.appendPending = false;
    this.commitPending = false;
    if (this.role !== Role.Leader) return;
    for (const [id, pr] of this.prs.progress) {
      if (id === this.id) continue;
      let sent = false;
      while (this.maybeSendAppend(id, pr, false)) sent = true;
      if (!sent && sendCommit) this.maybeSendAppend(id, pr, true);
    }
  }

  /** True when flush() may produce messages. */
  hasPendingFlush(): boolean {
    return this.appendPending || this.commitPending || this.readOnly.needsRound();
  }

  /**
   * Sends one append to `to` if its flow allows: entries from `pr.next` on, up to
   * `maxSizePerMsg`, or none when `sendIfEmpty` (to carry the commit index or to probe).
   * Sends a snapshot instead when the entries it needs were compacted. Returns whether a
   * message was sent.
   */
  private maybeSendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const log = this.raftLog;
    const prevIndex = pr.next - 1;
    const prevTerm = log.termOrZero(prevIndex);
    if (prevTerm === 0 && prevIndex !== 0) return this.maybeSendSnapshot(to, pr);
    const last = log.lastIndex();
    let ents: Entry[] = [];
    // A full window still lets an empty append through (sendIfEmpty): it carries the commit
    // index or probes after a heartbeat response, and occupies no slot of the window.
    const windowFull = pr.state === ProgressState.Replicate && pr.inflights.full();
    if (pr.next <= last && !windowFull) {
      if (pr.next < log.firstIndex()) return this.maybeSendSnapshot(to, pr);
      ents = log.slice(pr.next, last + 1, this.cfg.maxSizePerMsg);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MessageType.Append, to, this.id, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = log.committed;
    this.send(m);
    const n = ents.length;
    pr.sentEntries(n, n === 0 ? 0 : log.lastSliceBytes, n === 0 ? prevIndex : ents[n - 1]!.index);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.logger.debug({ to }, "not sending a snapshot to a member not recently active");
      return false;
    }
    const snapshot = this.raftLog.snapshotMetadata();
    if (snapshot.index === 0) return false;
    pr.becomeSnapshot(snapshot.index);
    const m = newMessage(MessageType.Snapshot, to, this.id, this.term);
    m.snapshot = snapshot;
    this.send(m);
    this.logger.info(
      { to, index: snapshot.index, term: snapshot.term, match: pr.match },
      "sending snapshot",
    );
    return true;
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    const pr = this.prs.progress.get(to);
    if (pr === undefined) return;
    const m = newMessage(MessageType.Heartbeat, to, this.id, this.term);
    // A follower may commit only what it is known to hold: a heartbeat carries no
    // entries, so it cannot fix a follower's log the way an append does.
    m.commit = Math.min(pr.match, this.raftLog.committed);
    if (ctx !== undefined) m.context = ctx;
    this.send(m);
  }

  private bcastHeartbeat(ctx: Uint8Array | undefined): void {
    for (const id of this.prs.progress.keys()) {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    }
  }

  // ---------------------------------------------------------------- role changes

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = 0;
    this.prs.resetVotes();
    const next = this.raftLog.lastIndex() + 1;
    for (const [id, pr] of this.prs.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? this.raftLog.persistedIndex() : 0;
      pr.next = Math.max(next, pr.match + 1);
      pr.recentActive = false;
      // A new term starts with a grace period: nobody is presumed unreachable yet.
      pr.lastActiveTick = this.tickCount;
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.reset();
    this.deferredReads = [];
    this.appendPending = false;
    this.commitPending = false;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout =
      this.cfg.electionTick + this.cfg.rng.nextInt(this.cfg.electionTick);
  }

  becomeFollower(term: number, lead: NodeId): void {
    const wasLeader = this.role === Role.Leader;
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
    if (wasLeader) this.logger.info({ term }, "stepped down");
  }

  private becomePreCandidate(): void {
    // A pre-candidate changes neither its term nor its vote: that is the point of pre-vote.
    this.role = Role.PreCandidate;
    this.prs.resetVotes();
    this.lead = 0;
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) {
      // The leader's own log is trivially in sync with itself.
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Every configuration change in the log may still be unapplied; conservatively
    // allow no new one until everything up to here is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Raft §5.4.2: entries of earlier terms commit only under an entry of the current
    // term, and ReadIndex needs one committed too, so start the term with an empty entry.
    const index = this.raftLog.lastIndex() + 1;
    this.raftLog.append([{ term: this.term, index, type: EntryType.Normal, data: EMPTY }]);
    this.appendPending = true;
    this.logger.info({ term: this.term, lastIndex: index }, "became leader");
    if (!this.prs.isVoter(this.id)) {
      // Elected while removed (see promotable): bring the voters up to date, then hand over.
      const to = this.bestTransferee();
      if (to !== 0) this.transferLeadership(to);
    }
  }

  // ---------------------------------------------------------------- elections

  /** Starts an election (or a pre-vote first, when enabled) if this member may. */
  hup(transfer: boolean): void {
    if (this.role === Role.Leader) return;
    if (!this.promotable()) {
      this.logger.debug({ term: this.term }, "not campaigning: not a voter");
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      // The outcome of an election must not depend on a configuration the member has
      // not applied yet; wait until it catches up.
      this.logger.debug({ term: this.term }, "not campaigning: configuration change unapplied");
      return;
    }
    if (this.cfg.preVote && !transfer) this.campaign(false, false);
    else this.campaign(true, transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    const log = this.raftLog;
    if (log.applied >= log.committed) return false;
    let lo = log.applied + 1;
    const hi = log.committed + 1;
    while (lo < hi) {
      const ents = log.slice(lo, hi, this.cfg.maxCommittedSizePerReady);
      for (const e of ents) if (e.type !== EntryType.Normal) return true;
      lo += ents.length;
    }
    return false;
  }

  private campaign(real: boolean, transfer: boolean): void {
    let term: number;
    let type: MessageType;
    if (real) {
      this.becomeCandidate();
      type = MessageType.Vote;
      term = this.term;
    } else {
      this.becomePreCandidate();
      type = MessageType.PreVote;
      // Pre-vote asks about the term this member would campaign in, without entering it.
      term = this.term + 1;
    }
    this.logger.info(
      { term: this.term, lastIndex: this.raftLog.lastIndex(), preVote: !real },
      "starting election",
    );
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.prs.config.voters.ids()) {
      if (id === this.id) {
        if (real) {
          // Counted only once the vote is durable (delivered by advance after the save).
          const self = newMessage(MessageType.VoteResponse, this.id, this.id, this.term);
          this.send(self);
        } else {
          // A pre-vote changes nothing durable, so the member can count itself at once.
          if (this.poll(this.id, true)) return;
        }
        continue;
      }
      const m = newMessage(type, id, this.id, term);
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (transfer) m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  /**
   * Records a vote and acts on the result. Returns true when the election was decided,
   * which for a won pre-vote means the real election has started.
   */
  private poll(from: NodeId, granted: boolean): boolean {
    this.prs.recordVote(from, granted);
    const result = this.prs.voteResult();
    if (result === VoteResult.Won) {
      if (this.role === Role.PreCandidate) this.campaign(true, false);
      else {
        this.becomeLeader();
      }
      return true;
    }
    if (result === VoteResult.Lost) {
      // Lost: fall back to follower in the same term; the next timeout retries.
      this.becomeFollower(this.term, 0);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.tickCount++;
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.cfg.checkQuorum && !this.checkQuorum()) return;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      for (const [id, pr] of this.prs.progress) {
        if (id !== this.id) pr.recentActive = false;
      }
      // A transfer that did not finish within an election timeout has failed. A leader
      // that is no longer a voter then simply steps down.
      if (this.leadTransferee !== 0) this.abortLeaderTransfer();
      if (!this.prs.isVoter(this.id) || this.isLearner) {
        this.becomeFollower(this.term, 0);
        return;
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      const round = this.readOnly.lastRound();
      this.bcastHeartbeat(round === 0 ? undefined : encodeRoundContext(round));
    }
  }

  /**
   * Check-quorum: a leader that has not heard from a quorum of voters for a whole election
   * timeout steps down, so that a partitioned leader stops serving within one election
   * timeout of losing its quorum — by then its followers may be electing another. Checked
   * on every tick against each member's last-heard tick. Returns false if it stepped down.
   */
  private checkQuorum(): boolean {
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) self.lastActiveTick = this.tickCount;
    const heard = this.prs.quorumActiveTick();
    if (this.tickCount - heard >= this.cfg.electionTick) {
      this.logger.warn(
        { term: this.term, ticksSinceQuorum: this.tickCount - heard },
        "stepping down: no quorum heard from for an election timeout",
      );
      this.becomeFollower(this.term, 0);
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- step

  /** Validates a message from the network; throws InvalidMessageError, changing nothing. */
  validate(m: Message): void {
    if (m === null || typeof m !== "object")
      throw new InvalidMessageError("message is not an object");
    if (
      !Number.isInteger(m.type) ||
      (m.type as number) < MIN_MESSAGE_TYPE ||
      (m.type as number) > MAX_MESSAGE_TYPE
    ) {
      throw new InvalidMessageError(`unknown or local-only message type ${String(m.type)}`);
    }
    if (!isIndex(m.from) || m.from === 0) {
      throw new InvalidMessageError(`message ${m.type} has no valid sender: ${String(m.from)}`);
    }
    if (m.to !== this.id) {
      throw new InvalidMessageError(`message ${m.type} is for ${m.to}, not member ${this.id}`);
    }
    if (!isIndex(m.term) || !isIndex(m.index) || !isIndex(m.logTerm) || !isIndex(m.commit)) {
      throw new InvalidMessageError(`message ${m.type} from ${m.from} has an invalid number`);
    }
    if (!Array.isArray(m.entries)) {
      throw new InvalidMessageError(`message ${m.type} from ${m.from} has no entries array`);
    }
    if (m.type === MessageType.Append) {
      let prevTerm = m.logTerm;
      for (let i = 0; i < m.entries.length; i++) {
        const e = m.entries[i]!;
        if (
          e === null ||
          typeof e !== "object" ||
          e.index !== m.index + 1 + i ||
          !isIndex(e.term) ||
          e.term < prevTerm ||
          e.term > m.term ||
          !(e.data instanceof Uint8Array)
        ) {
          throw new InvalidMessageError(
            `append from ${m.from} has a malformed entry at position ${i} (after index ${m.index})`,
          );
        }
        prevTerm = e.term;
      }
    }
    if (m.type === MessageType.Snapshot) {
      const s = m.snapshot;
      if (s === undefined || !isIndex(s.index) || !isIndex(s.term) || s.index === 0) {
        throw new InvalidMessageError(`snapshot message from ${m.from} has no valid metadata`);
      }
    }
  }

  step(m: Message): void {
    this.validate(m);
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = isTransferContext(m.context);
        const inLease =
          this.cfg.checkQuorum && this.lead !== 0 && this.electionElapsed < this.cfg.electionTick;
        if (!force && inLease) {
          // Check-quorum's lease: having heard from a leader within the election timeout,
          // this member will not help depose it. This keeps a rejoining member with a
          // higher term from disrupting a healthy cluster.
          this.logger.debug(
            { from: m.from, term: m.term, lead: this.lead },
            "ignoring vote request: leader lease not expired",
          );
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes the receiver's term.
      } else if (m.type === MessageType.PreVoteResponse && !m.reject) {
        // Granted pre-votes carry the future term the pre-candidate asked about; the term
        // is entered when a quorum granted, not now.
      } else if (
        m.type === MessageType.Append ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snapshot
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, 0);
      }
    } else if (m.term < this.term) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === MessageType.Heartbeat || m.type === MessageType.Append)
      ) {
        // A leader of an older term is still sending. With pre-vote or check-quorum this
        // member may have a higher term that the old leader never learns from votes, so
        // tell it; it steps down on seeing the term.
        this.send(newMessage(MessageType.AppendResponse, m.from, this.id, this.term));
      } else if (m.type === MessageType.PreVote) {
        const r = newMessage(MessageType.PreVoteResponse, m.from, this.id, this.term);
        r.reject = true;
        this.send(r);
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        break;
      case Role.Follower:
        this.stepFollower(m);
        break;
    }
  }

  private handleVoteRequest(m: Message): void {
    const canVote =
      // Repeated request from the one we voted for (our response may have been lost).
      this.vote === m.from ||
      // Not voted yet, and no leader known in this term.
      (this.vote === 0 && this.lead === 0) ||
      // A pre-vote for a future term; it binds nothing.
      (m.type === MessageType.PreVote && m.term > this.term);
    const respType =
      m.type === MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      // The response names the requested term, so a pre-candidate can tell a grant for
      // its future term from a rejection by a member of a newer term.
      const r = newMessage(respType, m.from, this.id, m.term);
      this.send(r);
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
      this.logger.info(
        { from: m.from, term: m.term, preVote: m.type === MessageType.PreVote },
        "granted vote",
      );
    } else {
      const r = newMessage(respType, m.from, this.id, this.term);
      r.reject = true;
      this.send(r);
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.prs.progress.get(m.from);
    switch (m.type) {
      case MessageType.AppendResponse:
        if (pr !== undefined) this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResponse:
        if (pr !== undefined) this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndexRequest(m.from, readContextOf(m));
        return;
      case MessageType.TransferLeader:
        if (pr !== undefined) this.transferLeadership(m.from);
        return;
      case MessageType.Append:
      case MessageType.Heartbeat:
      case MessageType.Snapshot:
        // Two leaders in one term would break election safety; a correct peer never sends this.
        this.logger.error(
          { from: m.from, term: m.term, type: m.type },
          "received a leader's message in my own term; ignoring",
        );
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.lastActiveTick = this.tickCount;
    if (m.reject) {
      // Fast backtracking: the follower names (rejectHint, logTerm), its last entry at or
      // below the probe with a term <= the probe's. The leader skips to the last index
      // where its own log has a term <= that, so a whole divergent term costs one round
      // trip instead of one per entry (Raft §5.3, etcd's findConflictByTerm).
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.appendPending = true;
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe)) {
      if (pr.state === ProgressState.Probe) {
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
        // The follower caught up past the compaction point (through the snapshot or
        // otherwise): replicate normally again.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Replicate) {
        pr.inflights.freeLE(m.index);
      }
      if (this.maybeCommit()) this.onCommitAdvanced();
      if (wasPaused || pr.match < this.raftLog.lastIndex()) this.appendPending = true;
      if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
        this.sendTimeoutNow(m.from);
      }
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.lastActiveTick = this.tickCount;
    pr.msgAppFlowPaused = false;
    if (pr.match < this.raftLog.lastIndex()) {
      // The follower is behind: probe now (an empty append if nothing new), so a lost
      // append is noticed at the heartbeat rate.
      this.maybeSendAppend(m.from, pr, true);
    }
    const round = decodeRoundContext(m.context);
    if (round === 0) return;
    const acks = this.readOnly.recordAck(round, m.from);
    if (acks === undefined) return;
    const ackOf = (id: NodeId): boolean | undefined => (acks.has(id) ? true : undefined);
    if (this.prs.config.voters.voteResult(ackOf) !== VoteResult.Won) return;
    for (const req of this.readOnly.release(round)) {
      this.respondToRead(req.from, req.index, req.context);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.VoteResponse:
        if (this.role === Role.Candidate) this.poll(m.from, !m.reject);
        return;
      case MessageType.PreVoteResponse:
        if (this.role === Role.PreCandidate) this.poll(m.from, !m.reject);
        return;
      default:
        // No leader to forward reads or transfers to; the requester retries.
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // The leader is handing over: campaign now, skipping pre-vote and the lease
        // check (the vote request says so), since the leader itself asked.
        this.logger.info({ from: m.from, term: this.term }, "leadership handed over; campaigning");
        this.hup(true);
        return;
      case MessageType.TransferLeader:
      case MessageType.ReadIndex:
        if (this.lead === 0) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.ReadIndexResponse: {
        const ctx = m.entries[0]?.data;
        if (m.entries.length !== 1 || ctx === undefined) {
          this.logger.warn({ from: m.from }, "malformed read index response; ignoring");
          return;
        }
        this.readStates.push({ index: m.index, context: ctx });
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppend(m: Message): void {
    const log = this.raftLog;
    if (m.index < log.committed) {
      // Everything up to our commit index is known to match; say so and let the leader
      // continue from there.
      const r = newMessage(MessageType.AppendResponse, m.from, this.id, this.term);
      r.index = log.committed;
      this.send(r);
      return;
    }
    const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew >= 0) {
      const r = newMessage(MessageType.AppendResponse, m.from, this.id, this.term);
      r.index = lastNew;
      this.send(r);
      return;
    }
    // Our entry at m.index is missing or has another term. Name the last entry at or
    // below it whose term is <= the leader's term there: nothing above it can match.
    const hintIndex = Math.min(m.index, log.lastIndex());
    const hint = log.findConflictByTerm(hintIndex, m.logTerm);
    const r = newMessage(MessageType.AppendResponse, m.from, this.id, this.term);
    r.index = m.index;
    r.reject = true;
    r.rejectHint = hint.index;
    r.logTerm = hint.term;
    this.send(r);
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    const r = newMessage(MessageType.HeartbeatResponse, m.from, this.id, this.term);
    if (m.context !== undefined && m.context.byteLength > 0) r.context = m.context;
    this.send(r);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    const r = newMessage(MessageType.AppendResponse, m.from, this.id, this.term);
    if (this.restore(s)) {
      this.logger.info({ index: s.index, term: s.term }, "restored snapshot");
      r.index = this.raftLog.lastIndex();
    } else {
      r.index = this.raftLog.committed;
    }
    this.send(r);
  }

  /**
   * Takes in a snapshot from the leader unless the log already holds what it covers.
   * Returns true when the log was replaced and the snapshot must be installed.
   */
  private restore(s: SnapshotMetadata): boolean {
    const log = this.raftLog;
    if (s.index <= log.committed) return false;
    const cs = s.confState;
    const member =
      cs.voters.includes(this.id) ||
      cs.learners.includes(this.id) ||
      cs.votersOutgoing.includes(this.id);
    if (!member) {
      this.logger.warn(
        { index: s.index },
        "ignoring snapshot: this member is not in its configuration",
      );
      return false;
    }
    if (log.matchTerm(s.index, s.term)) {
      // The log already holds the snapshot's last entry, so it holds everything before
      // it too (log matching): just commit up to there.
      log.commitTo(s.index);
      return false;
    }
    log.restore(s);
    // A follower's progress map only matters once it leads, and becoming leader resets it.
    this.prs.setConfig(trackerConfigFromConfState(cs), log.lastIndex() + 1);
    this.isLearner = this.prs.config.learners.has(this.id);
    return true;
  }

  // ---------------------------------------------------------------- leader actions

  /**
   * Appends normal entries as the leader and returns the index of the first and the term.
   * Throws NotLeaderError / LeaderNotFoundError on a non-leader and ProposalDroppedError
   * when flow control refuses them; nothing is appended then.
   */
  propose(entries: Entry[]): { index: number; term: number } {
    const size = entriesSize(entries);
    this.checkCanPropose(size);
    return this.appendProposals(entries, size);
  }

  /**
   * Appends one configuration change entry (`leave`: it asks to leave a joint
   * configuration). Throws like `propose`, and ProposalDroppedError with reason
   * "conf-change-rejected" while another change is unapplied or when the change does not
   * fit the joint state.
   */
  proposeConfChange(entry: Entry, leave: boolean): { index: number; term: number } {
    this.checkCanPropose(entrySize(entry));
    let refused = "";
    if (this.pendingConfIndex > this.raftLog.applied) {
      refused = `the configuration change at ${this.pendingConfIndex} is not applied yet`;
    } else if (this.prs.config.voters.isJoint && !leave) {
      refused = "the joint configuration must be left first";
    } else if (!this.prs.config.voters.isJoint && leave) {
      refused = "not in a joint configuration";
    }
    if (refused !== "") throw new ProposalDroppedError("conf-change-rejected", refused);
    const r = this.appendProposals([entry], entrySize(entry));
    this.pendingConfIndex = r.index;
    return r;
  }

  private checkCanPropose(size: number): void {
    if (this.role !== Role.Leader) {
      if (this.lead === 0) throw new LeaderNotFoundError();
      throw new NotLeaderError(this.lead);
    }
    if (this.leadTransferee !== 0) throw new ProposalDroppedError("leader-transfer");
    if (!this.prs.progress.has(this.id)) {
      throw new ProposalDroppedError(
        "conf-change-rejected",
        "this member was removed from the cluster",
      );
    }
    const limit = this.cfg.maxUncommittedEntriesSize;
    // The first proposal always passes, so one entry larger than the limit can still go.
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > limit) {
      throw new ProposalDroppedError(
        "uncommitted-size-exceeded",
        `uncommitted log of ${this.uncommittedSize} bytes plus ${size} exceeds maxUncommittedEntriesSize ${limit}`,
      );
    }
  }

  private appendProposals(entries: Entry[], size: number): { index: number; term: number } {
    const log = this.raftLog;
    const first = log.lastIndex() + 1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      e.term = this.term;
      e.index = first + i;
    }
    log.append(entries);
    this.uncommittedSize += size;
    this.appendPending = true;
    return { index: first, term: this.term };
  }

  /** Committed entries to hand out for applying, bounded by `maxCommittedSizePerReady`. */
  nextCommittedEntries(): Entry[] {
    return this.raftLog.nextCommittedEntries(this.cfg.maxCommittedSizePerReady);
  }

  /** Reduces the uncommitted size by entries handed out to apply. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.role !== Role.Leader) return;
    const size = entriesSize(ents);
    this.uncommittedSize = size > this.uncommittedSize ? 0 : this.uncommittedSize - size;
  }

  /** Counts this member's own vote, now durable, in the election of `term` if it is still running. */
  acceptSelfVote(term: number): void {
    if (this.role === Role.Candidate && this.term === term) this.poll(this.id, true);
  }

  /** Acknowledges the leader's own durable log up to `index` and commits what that allows. */
  selfAck(index: number): void {
    if (this.role !== Role.Leader) return;
    const pr = this.prs.progress.get(this.id);
    if (pr === undefined) return;
    if (pr.maybeUpdate(index) && this.maybeCommit()) this.onCommitAdvanced();
  }

  private maybeCommit(): boolean {
    // Only an entry of the current term is committed by counting replicas; earlier
    // entries commit with it (Raft §5.4.2, Figure 8).
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  private onCommitAdvanced(): void {
    this.commitPending = true;
    if (this.deferredReads.length > 0 && this.committedEntryInCurrentTerm()) {
      const deferred = this.deferredReads;
      this.deferredReads = [];
      for (const d of deferred) this.handleReadIndexRequest(d.from, d.context);
    }
  }

  /**
   * A read-index request from `from` (this member for local requests). Throws
   * ReadIndexDroppedError for a local request when too many are queued; a remote one is
   * dropped silently and its sender times out.
   */
  handleReadIndexRequest(from: NodeId, context: Uint8Array): void {
    if (this.prs.isSingleton()) {
      // No one else could have been elected: the commit index is safe at once, as long
      // as this term's first entry is committed (below).
      if (this.committedEntryInCurrentTerm()) {
        this.respondToRead(from, this.raftLog.committed, context);
        return;
      }
    }
    if (!this.committedEntryInCurrentTerm()) {
      // A new leader does not know the commit index of its predecessor until an entry of
      // its own term commits (Raft §6.4); until then the request waits.
      if (this.deferredReads.length + this.readOnly.pendingCount >= this.cfg.maxPendingReadIndex) {
        this.dropRead(from);
        return;
      }
      this.deferredReads.push({ from, context });
      return;
    }
    if (!this.readOnly.add(this.raftLog.committed, from, context)) this.dropRead(from);
  }

  private dropRead(from: NodeId): void {
    if (from === this.id) {
      throw new ReadIndexDroppedError(
        `more than maxPendingReadIndex (${this.cfg.maxPendingReadIndex}) read requests are waiting`,
      );
    }
    this.logger.warn({ from }, "dropping read index request: queue full");
  }

  private startReadRound(): void {
    if (this.role !== Role.Leader) {
      this.readOnly.reset();
      return;
    }
    const round = this.readOnly.startRound(this.id);
    this.bcastHeartbeat(encodeRoundContext(round));
  }

  private respondToRead(from: NodeId, index: number, context: Uint8Array): void {
    if (from === this.id || from === 0) {
      this.readStates.push({ index, context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResponse, from, this.id, this.term);
    m.index = index;
    m.entries = [{ term: 0, index: 0, type: EntryType.Normal, data: context }];
    this.send(m);
  }

  /** Starts handing leadership to `to`; a no-op when it is already underway or invalid. */
  transferLeadership(to: NodeId): void {
    const pr = this.prs.progress.get(to);
    if (pr === undefined || pr.isLearner) {
      this.logger.warn({ to }, "ignoring leadership transfer to a non-voter");
      return;
    }
    if (this.leadTransferee !== 0) {
      if (this.leadTransferee === to) return;
      this.abortLeaderTransfer();
    }
    if (to === this.id) return;
    // The transfer must finish within one election timeout or it is abandoned.
    this.electionElapsed = 0;
    this.leadTransferee = to;
    this.logger.info({ to, term: this.term }, "transferring leadership");
    if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(to);
    else this.appendPending = true;
  }

  /** The voter other than this member with the highest match index, or 0. */
  private bestTransferee(): NodeId {
    let best = 0;
    let bestMatch = -1;
    for (const id of this.prs.config.voters.ids()) {
      const p = this.prs.progress.get(id);
      if (id === this.id || p === undefined || p.isLearner) continue;
      if (p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    return best;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.TimeoutNow, to, this.id, this.term));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = 0;
  }

  reportUnreachable(id: NodeId): void {
    if (this.role !== Role.Leader) return;
    const pr = this.prs.progress.get(id);
    // Pipelining into a dead link only fills the window; probe until it answers again.
    if (pr !== undefined && pr.state === ProgressState.Replicate) pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, success: boolean): void {
    if (this.role !== Role.Leader) return;
    const pr = this.prs.progress.get(id);
    if (pr === undefined || pr.state !== ProgressState.Snapshot) return;
    if (!success) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // After a success, wait for the follower's append response before sending more;
    // after a failure, wait for a heartbeat response before trying again.
    pr.msgAppFlowPaused = true;
  }

  // ---------------------------------------------------------------- membership

  /**
   * Applies a committed configuration change and returns the new ConfState. Throws
   * InvalidConfChangeError, changing nothing, when the change is invalid here.
   */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const next = applyConfChangeTo(this.prs.config, cc);
    this.switchToConfig(next);
    return confStateFromTrackerConfig(next);
  }

  private switchToConfig(cfg: TrackerConfig): void {
    this.prs.setConfig(cfg, this.raftLog.lastIndex() + 1, this.tickCount);
    const pr = this.prs.progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if (this.role !== Role.Leader || this.prs.config.voters.ids().length === 0) return;
    // The quorum changed, so the commit index may move; new members get probed at once.
    if (this.maybeCommit()) this.onCommitAdvanced();
    this.appendPending = true;
    if (pr === undefined || this.isLearner) {
      // Removed or demoted. Stepping down at once could leave the remaining voters unable
      // to learn that the change committed, and a joint configuration they still apply
      // may need this member's vote, which its longer log would refuse: a deadlock. So
      // keep replicating (proposals are refused meanwhile) and hand leadership to the
      // most up-to-date voter; if that fails within an election timeout, step down.
      const to = this.bestTransferee();
      this.logger.info({ term: this.term, to }, "removed from the voters: handing leadership over");
      if (to === 0) this.becomeFollower(this.term, 0);
      else this.transferLeadership(to);
      return;
    }
    if (this.leadTransferee !== 0 && !this.prs.config.voters.has(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
  }

  /**
   * Called as entries are acknowledged applied: a leader whose joint configuration has
   * been applied and is to be left automatically proposes the leaving change.
   */
  maybeAutoLeave(): void {
    const cfg = this.prs.config;
    if (
      this.role === Role.Leader &&
      cfg.autoLeave &&
      cfg.voters.isJoint &&
      this.raftLog.applied >= this.pendingConfIndex
    ) {
      if (this.leadTransferee !== 0) return;
      try {
        // The empty ConfChangeV2 encodes as zero bytes and means "leave the joint state".
        this.proposeConfChange(
          { term: 0, index: 0, type: EntryType.ConfChangeV2, data: new Uint8Array(0) },
          true,
        );
        this.logger.info({ term: this.term }, "leaving joint configuration automatically");
      } catch (e) {
        this.logger.debug({ err: e }, "could not propose leaving the joint configuration yet");
      }
    }
  }
}

/** The request context of a forwarded read-index request (in its only entry). */
function readContextOf(m: Message): Uint8Array {
  return m.entries[0]?.data ?? EMPTY;
}
