import { JointConfig, VoteResult } from "../quorum.js";
import type { LogView } from "../raw-node.js";
import type { MemoryStorage } from "../testing/memory-storage.js";
import type { ConfState, Entry, NodeId } from "../types.js";

/** Which property of Raft (§5.2–5.4, Figure 3) a violation breaks. */
export type Invariant =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "committed-entry-lost"
  | "read-linearizability"
  | "liveness"
  | "crash";

/** Thrown by the checker at the first broken invariant; the simulator reports it with the seed. */
export class InvariantViolation extends Error {
  readonly invariant: Invariant;
  constructor(invariant: Invariant, message: string) {
    super(`${invariant}: ${message}`);
    this.name = "InvariantViolation";
    this.invariant = invariant;
  }
}

/** The simulator's payload: a 4-byte proposal number; 0 for an empty (no-op) entry. */
export function payloadKey(e: Entry): number {
  if (e.data.byteLength === 0) return 0;
  if (e.data.byteLength !== 4) return -1;
  return new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0);
}

/** One step of the hash chain a simulated state machine keeps over what it applied. */
export function chainHash(prev: number, term: number, key: number): number {
  let h = Math.imul(prev ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ term, 0x85ebca6b);
  h = Math.imul(h ^ key, 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

interface LoggedEntry {
  term: number;
  key: number;
  prevTerm: number;
}

/**
 * Checks Raft's safety properties as the simulation runs, incrementally, so that a run
 * stops at the first step that breaks one:
 *
 * - election safety: at most one leader per term, ever;
 * - log matching: two entries with the same index and term hold the same data and follow
 *   entries of the same term (which, inductively, makes the logs identical up to there);
 * - leader completeness: a new leader's log holds every entry committed before;
 * - state machine safety: no two members apply different entries at one index, and each
 *   applies in order without gaps (checked through a hash chain over what was applied);
 * - no committed entry lost: whenever an index becomes committed anywhere, a quorum of
 *   members holds it durably (in their saved log or a snapshot covering it), and it is
 *   the same entry everywhere;
 * - read linearizability: a read index is at least the commit index the cluster had
 *   reached when the read was requested.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** Index → term of the entry known committed there (index 0 unused). */
  private readonly committedTerm: number[] = [0];
  private readonly committedKey: number[] = [0];
  /** Index → hash chain value of the state machine after applying it. */
  private readonly hashAt: number[] = [0];
  private readonly logged = new Map<number, LoggedEntry[]>();
  /** The highest commit index any member has reached. */
  maxCommit = 0;
  /** Counters for the summary. */
  elections = 0;
  applied = 0;
  reads = 0;

  /** A member is leader in `term`; checks election safety and, once per term, completeness. */
  onLeader(id: NodeId, term: number, log: LogView): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined) {
      if (prev !== id) {
        throw new InvariantViolation(
          "election-safety",
          `members ${prev} and ${id} were both leader in term ${term}`,
        );
      }
      return;
    }
    this.leaders.set(term, id);
    this.elections++;
    const first = log.firstIndex();
    for (let i = first; i < this.committedTerm.length; i++) {
      const want = this.committedTerm[i];
      if (want === undefined || want === 0) continue;
      const have = log.term(i);
      if (have !== want) {
        throw new InvariantViolation(
          "leader-completeness",
          `leader ${id} of term ${term} has term ${have} at committed index ${i} (committed term ${want})`,
        );
      }
    }
  }

  /** Entries are being saved by `id`; `prevTerm` is the term of the entry before the first. */
  onPersist(id: NodeId, entries: readonly Entry[], prevTerm: number): void {
    let prev = prevTerm;
    for (const e of entries) {
      const key = payloadKey(e);
      let seen = this.logged.get(e.index);
      if (seen === undefined) {
        seen = [];
        this.logged.set(e.index, seen);
      }
      const same = seen.find((s) => s.term === e.term);
      if (same === undefined) seen.push({ term: e.term, key, prevTerm: prev });
      else if (same.key !== key || same.prevTerm !== prev) {
        throw new InvariantViolation(
          "log-matching",
          `member ${id} saves entry ${e.index}/${e.term} with payload ${key} after term ${prev}; ` +
            `another log has payload ${same.key} after term ${same.prevTerm}`,
        );
      }
      prev = e.term;
    }
  }

  /**
   * `id`'s commit index moved from `from` to `to`. Records the committed entries, checks
   * that every member agrees on them, and that a quorum holds each durably — a quorum of
   * one of `configs`, the memberships `id` had during the step (a change takes effect
   * when applied, which may be in the same step as the commit it did not decide).
   */
  onCommit(
    id: NodeId,
    from: number,
    to: number,
    log: LogView,
    storages: ReadonlyMap<NodeId, MemoryStorage>,
    configs: readonly ConfState[],
  ): void {
    const quorums = configs.map((c) => new JointConfig(c.voters, c.votersOutgoing));
    const config = configs[configs.length - 1]!;
    if (to > this.maxCommit) this.maxCommit = to;
    const first = log.firstIndex();
    for (let i = Math.max(from + 1, first); i <= to; i++) {
      const t = log.term(i);
      if (t === 0) continue;
      const known = this.committedTerm[i];
      if (known !== undefined && known !== 0) {
        if (known !== t) {
          throw new InvariantViolation(
            "committed-entry-lost",
            `member ${id} commits term ${t} at index ${i}, where term ${known} was committed`,
          );
        }
        continue;
      }
      while (this.committedTerm.length < i) this.committedTerm.push(0);
      this.committedTerm[i] = t;
      const holders = new Set<NodeId>();
      for (const [member, s] of storages) {
        if (s.snapshotMetadata().index >= i) holders.add(member);
        else if (i <= s.lastIndex() && s.term(i) === t) holders.add(member);
      }
      const has = (m: NodeId) => holders.has(m);
      if (!quorums.some((q) => q.voteResult(has) === VoteResult.Won)) {
        throw new InvariantViolation(
          "committed-entry-lost",
          `index ${i} (term ${t}) is committed on member ${id} but durable only on ` +
            `[${[...holders].sort().join(",")}], no quorum of voters [${config.voters}]` +
            (config.votersOutgoing.length > 0 ? ` + [${config.votersOutgoing}]` : ""),
        );
      }
    }
  }

  /** `id` applies `e` on top of state `hash`; returns the new hash. */
  onApply(id: NodeId, appliedIndex: number, hash: number, e: Entry): number {
    if (e.index !== appliedIndex + 1) {
      throw new InvariantViolation(
        "state-machine-safety",
        `member ${id} applies index ${e.index} after ${appliedIndex}`,
      );
    }
    const key = payloadKey(e);
    const next = chainHash(hash, e.term, key);
    const known = this.hashAt[e.index];
    if (known === undefined) {
      this.hashAt[e.index] = next;
      this.committedKey[e.index] = key;
      this.applied++;
    } else if (known !== next) {
      throw new InvariantViolation(
        "state-machine-safety",
        `member ${id} applies payload ${key} (term ${e.term}) at index ${e.index}; ` +
          `another member applied payload ${this.committedKey[e.index]} there` +
          (this.hashAt[e.index - 1] !== hash ? " (its state already differed before)" : ""),
      );
    }
    return next;
  }

  /** `id` restores a snapshot at `index` whose hash chain value is `hash`. */
  onSnapshotRestore(id: NodeId, index: number, hash: number): void {
    const known = this.hashAt[index];
    if (known !== undefined && known !== hash) {
      throw new InvariantViolation(
        "state-machine-safety",
        `member ${id} restores a snapshot at ${index} that differs from what was applied there`,
      );
    }
  }

  /** A read requested when the cluster's commit index was `minIndex` was answered with `index`. */
  onRead(id: NodeId, index: number, minIndex: number): void {
    this.reads++;
    if (index < minIndex) {
      throw new InvariantViolation(
        "read-linearizability",
        `member ${id} got read index ${index}, below the commit index ${minIndex} reached before the read began`,
      );
    }
  }

  /** The hash chain value after `index`, if some member applied it. */
  hashAfter(index: number): number | undefined {
    return this.hashAt[index];
  }
}
