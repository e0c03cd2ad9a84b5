import { CompactedError, InvalidMessageError, UnavailableError } from "./errors.js";
import type { LogReader } from "./log-store.js";
import { UnstableLog } from "./log-unstable.js";
import type { Entry, SnapshotMetadata } from "./types.js";

/** The size an entry counts for in byte limits: its payload. */
export function entrySize(e: Entry): number {
  return e.data.byteLength;
}

/** The total payload size of `ents`. */
export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) n += ents[i]!.data.byteLength;
  return n;
}

/**
 * One member's log: the durable part (read synchronously through a LogReader) followed by
 * the unstable part (not yet saved), plus the commit and apply positions.
 *
 * Invariant: `applied <= committed <= lastIndex()`, and `firstIndex() - 1 <= applied`
 * except while a snapshot from the leader is pending installation.
 */
export class RaftLog {
  readonly storage: LogReader;
  readonly unstable: UnstableLog;
  /** The highest index known to be committed. */
  committed: number;
  /** The highest index handed to the application to apply (acknowledged via advance). */
  applied: number;
  /** The payload size of what the last `slice` returned, so callers need not sum it again. */
  lastSliceBytes = 0;

  constructor(storage: LogReader, committed: number, applied: number) {
    this.storage = storage;
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    const first = storage.firstIndex();
    // Nothing before the snapshot can still be unapplied: it is part of the snapshot.
    this.committed = Math.max(committed, first - 1);
    this.applied = Math.max(applied, first - 1);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The index up to which the log is durable and agrees with this log. */
  persistedIndex(): number {
    if (this.unstable.snapshot !== undefined) return this.unstable.snapshot.index - 1;
    if (this.unstable.entries.length > 0) return this.unstable.offset - 1;
    return this.storage.lastIndex();
  }

  /**
   * The term of the entry at `index`, valid from `firstIndex() - 1` (the snapshot's
   * index) to `lastIndex()`. Throws CompactedError below and UnavailableError above.
   */
  term(index: number): number {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    const first = this.firstIndex();
    if (index < first - 1) throw new CompactedError(index, first);
    const last = this.lastIndex();
    if (index > last) throw new UnavailableError(index, last);
    return this.storage.term(index);
  }

  /** Like `term`, but 0 outside the valid range (no entry ever has term 0). */
  termOrZero(index: number): number {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    return this.storage.term(index);
  }

  lastTerm(): number {
    return this.termOrZero(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termOrZero(index) === term;
  }

  /**
   * Raft §5.4.1: a log is at least as up to date as ours if its last term is greater, or
   * equal with an index at least as large.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Handles an append from the leader: `(prevIndex, prevTerm)` must match, then `ents`
   * are merged (keeping matching entries, replacing from the first conflict). Returns the
   * index of the last new entry, or -1 if the previous entry does not match.
   * Throws InvalidMessageError, changing nothing, when the append would overwrite a
   * committed entry: only a faulty leader or a corrupt log can cause that.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new InvalidMessageError(
          `append would overwrite committed entry ${conflict} (committed ${this.committed})`,
        );
      }
      const skip = conflict - ents[0]!.index;
      this.append(skip === 0 ? ents : ents.slice(skip));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * Appends entries, truncating any conflicting unstable suffix. The first entry must
   * follow the log (`<= lastIndex() + 1`) and must not overwrite committed entries.
   */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new InvalidMessageError(
        `append after ${after} is below the commit index ${this.committed}`,
      );
    }
    if (after > this.lastIndex()) {
      throw new InvalidMessageError(`append after ${after} leaves a gap after ${this.lastIndex()}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that conflicts with the log (same index,
   * different term) or that is new (beyond the last index); 0 if all are present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The fast-backtracking hint: the largest index `<= index` whose term is `<= term`,
   * with that term. Every entry after it up to `index` has a term greater than `term`, so
   * none of them can match a log whose entry at `index` has `term`; the leader may skip
   * them all in one round trip instead of one per entry. Stops at the first index whose
   * term is unknown (compacted), returning term 0 for it.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (;;) {
      let t: number;
      try {
        t = this.term(index);
      } catch (e) {
        if (e instanceof CompactedError || e instanceof UnavailableError) {
          return { index, term: 0 };
        }
        throw e;
      }
      if (t <= term || index === 0) return { index, term: t };
      index--;
    }
  }

  /**
   * Entries in `[lo, hi)`, stopping before the payload total would exceed `maxBytes` but
   * always at least one. Throws CompactedError if `lo < firstIndex()`.
   */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    this.lastSliceBytes = 0;
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    const last = this.lastIndex();
    if (hi > last + 1) throw new UnavailableError(hi - 1, last);
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      // The store stopped early at the byte limit: the unstable part cannot be added.
      if (stored.length < Math.min(hi, off) - lo || hi <= off) {
        this.lastSliceBytes = entriesSize(stored);
        return stored;
      }
      return this.limitSize(stored, this.unstable.entries, off, hi, maxBytes);
    }
    return this.limitSize([], this.unstable.entries, lo, hi, maxBytes);
  }

  /**
   * `prefix` followed by the unstable entries in `[lo, hi)`, stopping before the payload
   * total would exceed `maxBytes` (the first entry overall always goes, whatever its size,
   * so a large entry can still be sent). Copies only what it returns.
   */
  private limitSize(
    prefix: Entry[],
    ents: Entry[],
    lo: number,
    hi: number,
    maxBytes: number,
  ): Entry[] {
    let size = prefix.length === 0 ? 0 : entriesSize(prefix);
    const from = lo - this.unstable.offset;
    const to = hi - this.unstable.offset;
    let end = from;
    for (; end < to; end++) {
      const s = ents[end]!.data.byteLength;
      if ((prefix.length > 0 || end > from) && size + s > maxBytes) break;
      size += s;
    }
    this.lastSliceBytes = size;
    const taken = ents.slice(from, end);
    return prefix.length === 0 ? taken : prefix.concat(taken);
  }

  /** Committed entries not yet handed out to apply, up to `maxBytes` (at least one). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.unstable.snapshot !== undefined) return [];
    const lo = this.applied + 1;
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === undefined && this.committed > this.applied;
  }

  /** Raises the commit index to `index` if its entry has the current leader's `term`. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    const last = this.lastIndex();
    if (index > last) {
      throw new InvalidMessageError(
        `commit index ${index} is beyond the last index ${last}; the log is missing entries`,
      );
    }
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** The metadata of the snapshot the log starts from (pending or durable). */
  snapshotMetadata(): SnapshotMetadata {
    return this.unstable.snapshot ?? this.storage.snapshotMetadata();
  }

  /** Replaces the log with a snapshot from the leader; it is committed by definition. */
  restore(snapshot: SnapshotMetadata): void {
    this.committed = snapshot.index;
    this.unstable.restore(snapshot);
  }
}
