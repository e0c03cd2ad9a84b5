import { type Entry, type Message, MessageType } from "@raftkv/proto/raft";
import { ConformanceAssertionError } from "../errors.js";
import { check } from "../harness/expect.js";
import type { FakePeer } from "./fake-peer.js";
import { describeMessage, logEntry, raftMessage } from "./raft-messages.js";

/** An (index, term) position in a Raft log. */
export interface LogPosition {
  readonly index: bigint;
  readonly term: bigint;
}

/** What a fake leader needs of the scripted cluster. */
export interface LeaderEnvironment {
  readonly nodeId: bigint;
  readonly heartbeatIntervalMs: number;
  /** How long to wait for the member's answer to one message. */
  readonly responseTimeoutMs: number;
  readonly signal: AbortSignal;
}

/** How a `replicate` run went. */
export interface Replication {
  /** The member's rejections, in order, each answering the probe at `probes[i]`. */
  readonly rejections: readonly Message[];
  readonly probes: readonly bigint[];
  /** The append the member finally accepted. */
  readonly accepted: Message;
}

/**
 * A fake peer acting as the leader of `term`, with a log of its own: the member's log as
 * it was when the case began (up to `base`, which the leader shares without knowing its
 * entries) followed by the entries the script proposes. It sends appends and heartbeats
 * the way a leader does (Raft §5.3, etcd's raft.go), so a script can check each answer.
 *
 * Heartbeats go out every heartbeat interval once `startHeartbeats` is called, as a live
 * leader's do, so the member does not campaign while a script runs; they carry
 * `heartbeatCommit`, which a script raises when it wants the member to commit.
 */
export class FakeLeader {
  readonly peer: FakePeer;
  readonly term: bigint;
  readonly base: LogPosition;
  /** The leader's entries after `base`, in index order. */
  readonly entries: Entry[] = [];
  /**
   * The commit index heartbeats carry. A real leader sends min(its commit, the
   * follower's match index); scripts set it to exactly what they want committed.
   * Default 0: a heartbeat that commits nothing new.
   */
  heartbeatCommit = 0n;

  private readonly env: LeaderEnvironment;
  /** Terms below `base` the member itself reported (in reject hints). */
  private readonly reportedTerms = new Map<bigint, bigint>();
  private timer: NodeJS.Timeout | undefined;

  constructor(env: LeaderEnvironment, peer: FakePeer, term: bigint, base: LogPosition) {
    this.env = env;
    this.peer = peer;
    this.term = term;
    this.base = base;
  }

  /** The leader's last entry. */
  get last(): LogPosition {
    const entry = this.entries.at(-1);
    return entry === undefined ? this.base : { index: entry.index, term: entry.term };
  }

  /** The term of the leader's entry at `index`, when the leader knows it. */
  termAt(index: bigint): bigint | undefined {
    if (index === this.base.index) return this.base.term;
    if (index > this.base.index) return this.entries[Number(index - this.base.index) - 1]?.term;
    return this.reportedTerms.get(index);
  }

  /**
   * Appends entries to the leader's own log (not sent): `count` empty ones, or one per
   * element of `data`. `term` defaults to the leader's term; an older one models entries
   * the leader received from an earlier leader. Returns the new entries.
   */
  propose(count: number | readonly Uint8Array[], term: bigint = this.term): Entry[] {
    const data = typeof count === "number" ? Array.from({ length: count }, () => undefined) : count;
    const added = data.map((d, i) => logEntry(this.last.index + BigInt(i) + 1n, term, d));
    this.entries.push(...added);
    return added;
  }

  /**
   * Sends one append after `prevIndex`, carrying the leader's entries up to `through`
   * (default its last), and resolves with the member's answer.
   *
   * @throws ConformanceAssertionError when the member does not answer in time.
   */
  async append(options: {
    prevIndex: bigint;
    /** Default: the leader's own term at prevIndex. */
    prevTerm?: bigint;
    through?: bigint;
    commit?: bigint;
  }): Promise<Message> {
    const prevTerm = options.prevTerm ?? this.termAt(options.prevIndex);
    if (prevTerm === undefined) {
      throw new ConformanceAssertionError(
        `the leader cannot probe at index ${options.prevIndex}: it is below the log the member had when the case began, and the member never reported its term there`,
      );
    }
    const through = options.through ?? this.last.index;
    const entries = this.entries.filter((e) => e.index > options.prevIndex && e.index <= through);
    const append = raftMessage(MessageType.APPEND, {
      from: this.peer.id,
      to: this.env.nodeId,
      term: this.term,
      index: options.prevIndex,
      logTerm: prevTerm,
      entries,
      commit: options.commit ?? 0n,
    });
    const mark = this.peer.mark();
    this.peer.send(append);
    const answer = await this.peer.waitFor(
      (m) => m.type === MessageType.APPEND_RESPONSE,
      `an answer to ${describeMessage(append)}`,
      { after: mark, timeoutMs: this.env.responseTimeoutMs, signal: this.env.signal },
    );
    return answer.message;
  }

  /**
   * Sends one heartbeat carrying `commit` and resolves with the member's answer.
   *
   * @throws ConformanceAssertionError when the member does not answer in time.
   */
  async heartbeat(commit: bigint = this.heartbeatCommit): Promise<Message> {
    const heartbeat = raftMessage(MessageType.HEARTBEAT, {
      from: this.peer.id,
      to: this.env.nodeId,
      term: this.term,
      commit,
    });
    const mark = this.peer.mark();
    this.peer.send(heartbeat);
    const answer = await this.peer.waitFor(
      (m) => m.type === MessageType.HEARTBEAT_RESPONSE && m.term === this.term,
      `an answer to ${describeMessage(heartbeat)}`,
      { after: mark, timeoutMs: this.env.responseTimeoutMs, signal: this.env.signal },
    );
    return answer.message;
  }

  /** Sends a heartbeat now and every heartbeat interval until `stop`. */
  startHeartbeats(): void {
    if (this.timer !== undefined) return;
    const beat = (): void => {
      if (this.env.signal.aborted) {
        this.stop();
        return;
      }
      this.peer.send(
        raftMessage(MessageType.HEARTBEAT, {
          from: this.peer.id,
          to: this.env.nodeId,
          term: this.term,
          commit: this.heartbeatCommit,
        }),
      );
    };
    beat();
    this.timer = setInterval(beat, this.env.heartbeatIntervalMs);
    this.timer.unref();
  }

  /** Stops the heartbeats: the leader goes silent, as a crashed or partitioned one does. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Brings the member's log in line with the leader's the way a new leader does: probe
   * after the leader's last entry, and after each rejection move the probe to where the
   * member's hint points (etcd's findConflictByTerm on the leader's log, Raft §5.3's
   * optimization), until an append is accepted; that append carries every entry after
   * the probe. Fails after `maxRounds` rejections, or when an answer is not in the
   * leader's term.
   */
  async replicate(options: { maxRounds: number; commit?: bigint }): Promise<Replication> {
    const rejections: Message[] = [];
    const probes: bigint[] = [];
    let prev = this.last.index;
    for (let round = 0; round < options.maxRounds; round++) {
      probes.push(prev);
      const answer = await this.append({
        prevIndex: prev,
        ...(options.commit === undefined ? {} : { commit: options.commit }),
      });
      check(
        answer.term === this.term,
        `the member answered an append of term ${this.term} in term ${answer.term}: ${describeMessage(answer)}`,
      );
      if (!answer.reject) return { rejections, probes, accepted: answer };
      rejections.push(answer);
      if (answer.rejectHint < this.base.index && answer.logTerm > 0n) {
        this.reportedTerms.set(answer.rejectHint, answer.logTerm);
      }
      // As etcd's Progress.MaybeDecrTo: a hint at or above the rejected probe still moves
      // the probe down by one, so a useless hint costs rounds, not agreement.
      const hinted = this.nextProbe(answer.rejectHint, answer.logTerm);
      check(prev > 0n, `the member rejected an append after index 0: ${describeMessage(answer)}`);
      prev = hinted < prev ? hinted : prev - 1n;
    }
    throw new ConformanceAssertionError(
      `the leader's probes ${probes.join(", ")} were all rejected: no agreement within ${options.maxRounds} rounds`,
    );
  }

  /**
   * Where a leader probes next after a rejection hinting (index, term): the last index
   * at or below `index` where the leader's own term is <= `term` (etcd's
   * findConflictByTerm); with no term in the hint, the hinted index itself.
   */
  nextProbe(hintIndex: bigint, hintTerm: bigint): bigint {
    let index = hintIndex < this.last.index ? hintIndex : this.last.index;
    if (hintTerm === 0n) return index;
    while (index > this.base.index) {
      const term = this.termAt(index);
      if (term !== undefined && term <= hintTerm) return index;
      index--;
    }
    // At or below the shared prefix, the leader's terms are the member's own.
    return index;
  }
}
