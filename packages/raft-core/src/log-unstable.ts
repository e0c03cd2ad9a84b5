import type { Entry, SnapshotMetadata } from "./types.js";

/**
 * The tail of the log that is not yet durable: entries (and possibly a snapshot received
 * from the leader) handed out in a Ready but not yet acknowledged by `advance`. Entries
 * here take precedence over the LogReader's for indexes `>= offset`.
 */
export class UnstableLog {
  /** A snapshot being installed; when set, the log before it is to be replaced. */
  snapshot: SnapshotMetadata | undefined;
  /** Entries from `offset` on, contiguous. */
  entries: Entry[] = [];
  /**
   * Set when `entries` was handed out in a Ready: the array must then not be mutated
   * (it is copied on the next write), which spares copying it for every Ready.
   */
  private shared = false;
  /** The index of `entries[0]` (or of the next entry to come when empty). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index of the log if a pending snapshot defines it. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.index + 1;
  }

  /** The last index of the log if the unstable part defines it. */
  maybeLastIndex(): number | undefined {
    const n = this.entries.length;
    if (n > 0) return this.offset + n - 1;
    return this.snapshot?.index;
  }

  /** The term at `index` if the unstable part holds it. */
  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.index === index) return this.snapshot.term;
      return undefined;
    }
    const e = this.entries[index - this.offset];
    return e?.term;
  }

  /**
   * Entries up to `(index, term)` became durable. Ignored when the entry there changed
   * since the Ready was taken (a new leader overwrote it meanwhile), since the new entry
   * still has to be saved.
   */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const t = this.maybeTerm(index);
    if (t !== term) return;
    const drop = index + 1 - this.offset;
    this.entries = drop === this.entries.length ? [] : this.entries.slice(drop);
    this.shared = false;
    this.offset = index + 1;
  }

  /** The entries to save, for a Ready; the caller must not mutate the array. */
  takeEntries(): Entry[] {
    if (this.entries.length === 0) return [];
    this.shared = true;
    return this.entries;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot received from the leader. */
  restore(snapshot: SnapshotMetadata): void {
    this.offset = snapshot.index + 1;
    this.entries = [];
    this.shared = false;
    this.snapshot = snapshot;
  }

  /**
   * Appends `ents` (contiguous, non-empty), first dropping any entries at or after
   * `ents[0].index`: the log's conflicting suffix.
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0]!.index;
    const end = this.offset + this.entries.length;
    if (first === end) {
      if (this.shared) {
        this.entries = this.entries.concat(ents);
        this.shared = false;
      } else {
        for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]!);
      }
    } else if (first <= this.offset) {
      // Replaces the whole unstable part; the durable entries from `first` on are
      // overwritten when this Ready's entries are saved.
      this.offset = first;
      this.entries = ents.slice();
      this.shared = false;
    } else {
      const kept = this.entries.slice(0, first - this.offset);
      for (let i = 0; i < ents.length; i++) kept.push(ents[i]!);
      this.entries = kept;
      this.shared = false;
    }
  }

  /** Entries in `[lo, hi)`, which must lie within the unstable part. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
