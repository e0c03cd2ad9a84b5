import type { ConfState, Entry, HardState, SnapshotMetadata } from "./types.js";

/**
 * Synchronous reads of the durable log, for RawNode. Implementations keep every entry
 * after the last snapshot in memory (as etcd's MemoryStorage does), so Raft never awaits
 * disk. Entries handed to `LogStore.save` must be readable here once `save` resolves.
 */
export interface LogReader {
  /** Index of the first entry still held: the snapshot's index + 1. */
  firstIndex(): number;
  /** Index of the last entry held, or the snapshot's index when the log is empty. */
  lastIndex(): number;
  /**
   * Term of the entry at `index`. Valid for `firstIndex() - 1 <= index <= lastIndex()`;
   * throws `CompactedError` below that range and `UnavailableError` above it.
   */
  term(index: number): number;
  /**
   * Entries in `[lo, hi)`, at least one if any exist, stopping before the total data
   * size would exceed `maxBytes`. Throws `CompactedError` if `lo < firstIndex()`.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The metadata of the most recent snapshot (index 0 and term 0 when none). */
  snapshotMetadata(): SnapshotMetadata;
}

/** What a member finds on disk when it starts. */
export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

export interface SaveOptions {
  /**
   * Sync to stable storage before resolving. Raft requires it whenever the term, the
   * vote or the entries change; a change to the commit index alone need not be synced.
   */
  sync: boolean;
}

/**
 * Durable storage for one member's Raft state. Implemented in memory by
 * `@raftkv/raft-core/testing` and on RocksDB by `@raftkv/wal-rocksdb`; both must pass the
 * shared `logStoreSuite` from `@raftkv/raft-core/testing`.
 */
export interface LogStore extends LogReader {
  /** Reads the state from storage. Called once, before any other method. */
  load(): Promise<InitialState>;
  /**
   * Persists `hardState` (if given) and `entries` in one atomic write. A save may be
   * called before earlier ones resolve (RaftNode does not wait for saves that only move
   * the commit index); saves take effect in call order. Entries whose index
   * is at or below `lastIndex()` replace the existing suffix from that index on. Rejects,
   * writing nothing, if the first entry's index is beyond `lastIndex() + 1` (a gap).
   */
  save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    options: SaveOptions,
  ): Promise<void>;
  /**
   * Replaces the whole log with a snapshot received from the leader: afterwards
   * `firstIndex() === metadata.index + 1`, `lastIndex() === metadata.index`, `term(index)`
   * is `metadata.term`, and `load()` returns `metadata.confState`. Raft only installs a
   * snapshot when its log does not already hold the snapshot's last entry, so no entry
   * after it can be kept.
   */
  applySnapshot(metadata: SnapshotMetadata): Promise<void>;
  /**
   * Discards entries up to and including `index` (which must be applied), recording a
   * snapshot at `index` with `confState` in the same atomic write. Rejects if `index` is
   * beyond `lastIndex()`; an `index` at or below the current snapshot does nothing.
   */
  compact(index: number, confState: ConfState): Promise<void>;
  close(): Promise<void>;
}
