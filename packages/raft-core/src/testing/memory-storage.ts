import { CompactedError, StorageError, UnavailableError } from "../errors.js";
import type { LogReader } from "../log-store.js";
import { entrySize } from "../raft-log.js";
import type { ConfState, Entry, HardState, SnapshotMetadata } from "../types.js";

const EMPTY_CONF: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

function cloneConf(c: ConfState): ConfState {
  return {
    voters: [...c.voters],
    learners: [...c.learners],
    votersOutgoing: [...c.votersOutgoing],
    learnersNext: [...c.learnersNext],
    autoLeave: c.autoLeave,
  };
}

/**
 * A synchronous in-memory log with a hard state and a snapshot point, like etcd's
 * MemoryStorage: the LogReader RawNode reads, plus the writes a Ready asks for. Used by
 * `MemoryLogStore` and by simulations that drive RawNode synchronously. Every mutation is
 * validated; bad input throws StorageError and changes nothing.
 */
export class MemoryStorage implements LogReader {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: SnapshotMetadata = { index: 0, term: 0, confState: EMPTY_CONF };
  /** Entries after the snapshot: `ents[k].index === snap.index + 1 + k`. */
  private ents: Entry[] = [];

  firstIndex(): number {
    return this.snap.index + 1;
  }

  lastIndex(): number {
    return this.snap.index + this.ents.length;
  }

  term(index: number): number {
    const s = this.snap.index;
    if (index === s) return this.snap.term;
    if (index < s) throw new CompactedError(index, s + 1);
    const e = this.ents[index - s - 1];
    if (e === undefined) throw new UnavailableError(index, this.lastIndex());
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const s = this.snap.index;
    if (lo <= s) throw new CompactedError(lo, s + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    if (lo >= hi) return [];
    const from = lo - s - 1;
    const to = hi - s - 1;
    let size = entrySize(this.ents[from]!);
    let end = from + 1;
    while (end < to) {
      const n = entrySize(this.ents[end]!);
      if (size + n > maxBytes) break;
      size += n;
      end++;
    }
    return this.ents.slice(from, end);
  }

  snapshotMetadata(): SnapshotMetadata {
    return this.snap;
  }

  /** The ConfState of the snapshot point. */
  confState(): ConfState {
    return this.snap.confState;
  }

  setHardState(hs: HardState): void {
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  /**
   * Appends entries, replacing any suffix from the first entry's index. Entries at or
   * below the snapshot are skipped (they are covered by it). Throws StorageError for a
   * gap after the last index or non-contiguous entries.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i) {
        throw new StorageError(`entries are not contiguous at position ${i}`);
      }
    }
    const last = this.lastIndex();
    if (first > last + 1) {
      throw new StorageError(`append at ${first} would leave a gap after the last index ${last}`);
    }
    const s = this.snap.index;
    let skip = 0;
    if (first <= s) skip = s + 1 - first;
    if (skip >= entries.length) return;
    const start = first + skip;
    if (start === last + 1) {
      for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
      return;
    }
    this.ents.length = start - s - 1;
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
  }

  /**
   * Discards entries up to `index` and records a snapshot point there. Throws
   * StorageError if `index` is beyond the last index; a point at or below the current
   * snapshot is ignored.
   */
  compact(index: number, confState: ConfState): void {
    const s = this.snap.index;
    if (index <= s) return;
    if (index > this.lastIndex()) {
      throw new StorageError(`compact at ${index} is beyond the last index ${this.lastIndex()}`);
    }
    const term = this.term(index);
    this.ents = this.ents.slice(index - s);
    this.snap = { index, term, confState: cloneConf(confState) };
  }

  /**
   * Replaces the whole log with a snapshot point: afterwards `firstIndex() ===
   * metadata.index + 1` and `lastIndex() === metadata.index`. Throws StorageError for a
   * snapshot older than the current one.
   */
  applySnapshot(metadata: SnapshotMetadata): void {
    if (metadata.index < this.snap.index) {
      throw new StorageError(
        `snapshot at ${metadata.index} is older than the current snapshot at ${this.snap.index}`,
      );
    }
    this.snap = {
      index: metadata.index,
      term: metadata.term,
      confState: cloneConf(metadata.confState),
    };
    this.ents = [];
  }

  /** An independent copy (entries are shared: they are never mutated). */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hardState = { ...this.hardState };
    c.snap = this.snap;
    c.ents = this.ents.slice();
    return c;
  }
}
