/**
 * The storage contract mvcc-kv needs from a durable ordered key-value store. mvcc-kv
 * keeps its key index (key → generations of revisions) in memory and stores
 * revision → KeyValue, the request-id table and a little metadata through this
 * interface; it never learns what the store is built on.
 *
 * Implemented in memory by `createMemoryBackend()` (this package) and on a RocksDB
 * column family by `@raftkv/wal-rocksdb`, which implements it structurally (it must not
 * import this package). mvcc-kv's own tests run one shared suite of backend rules
 * (`src/testdata/backend-suite.ts`) against both.
 *
 * Keys and values are opaque bytes; keys are ordered by unsigned byte-wise comparison
 * (memcmp, then shorter first), which is RocksDB's default comparator. mvcc-kv uses
 * only keys whose first byte is below 0xff, so `[0x00]` to `[0xff]` spans everything it
 * writes.
 */
export interface MvccBackend extends BackendReader {
  /**
   * The `appliedIndex` carried by the last completed `write`, 0 for a new store. It is
   * durable together with the data it came with: after a crash the store comes back
   * with some prefix of the completed writes, and this index names exactly that prefix.
   * Synchronous: implementations read it once when they open.
   */
  appliedIndex(): number;
  /**
   * Applies all operations of `batch`, in order, as one atomic write: after a crash
   * either all of them are visible (with `batch.appliedIndex`) or none. Reads started
   * after the returned promise resolves see the write; reads through a snapshot taken
   * before it never do.
   *
   * Rejects with the store's own error (and leaves the store unchanged) when the write
   * fails, e.g. on a full disk or after `close()`.
   */
  write(batch: BackendWriteBatch): Promise<void>;
  /**
   * A point-in-time, read-only view of the store as of the last completed write.
   * Synchronous, so that a caller can take it in the same tick as it reads its own
   * in-memory state and see the two consistently. Release it when done: an unreleased
   * snapshot pins old data (RocksDB keeps every version it can see).
   */
  snapshot(): BackendSnapshot;
  /** Releases resources; later calls reject. Unreleased snapshots become invalid. */
  close(): Promise<void>;
}

/** Reads shared by the live store and its snapshots. */
export interface BackendReader {
  /** The value stored under `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * The entries with `gte <= key < lt` in key order (descending when `reverse`), at most
   * `limit` of them. The iterable may be consumed lazily and abandoned early (`break`
   * releases the underlying iterator). On the live store, entries written while the
   * iteration runs may or may not be seen; use a snapshot for a consistent view.
   */
  range(options: BackendRangeOptions): AsyncIterable<BackendEntry>;
}

/** A point-in-time view; see `MvccBackend.snapshot`. */
export interface BackendSnapshot extends BackendReader {
  /** The backend's `appliedIndex()` at the moment the snapshot was taken. */
  readonly appliedIndex: number;
  /** Frees the snapshot; idempotent. Reads after release reject. */
  release(): void;
}

/** Bounds of a `range` read; bounds are optional, the range is `[gte, lt)`. */
export interface BackendRangeOptions {
  /** Inclusive lower bound; default: the smallest key. */
  gte?: Uint8Array | undefined;
  /** Exclusive upper bound; default: past the largest key. */
  lt?: Uint8Array | undefined;
  /** Iterate from the largest key down. Default false. */
  reverse?: boolean | undefined;
  /** Stop after this many entries. Default: no limit. */
  limit?: number | undefined;
}

/**
 * One key with its value. Neither side may mutate arrays once they crossed the
 * interface (handed to `write` or returned by a read): an in-memory backend keeps and
 * returns the very arrays it was given.
 */
export interface BackendEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** One operation of a write batch; operations apply in array order. */
export type BackendOperation =
  | { type: "put"; key: Uint8Array; value: Uint8Array }
  | { type: "delete"; key: Uint8Array }
  /** Deletes every key in `[gte, lt)`. */
  | { type: "deleteRange"; gte: Uint8Array; lt: Uint8Array };

/** An atomic write; see `MvccBackend.write`. */
export interface BackendWriteBatch {
  operations: readonly BackendOperation[];
  /**
   * The Raft index these operations bring the state up to, stored atomically with them.
   * When omitted, the stored applied index is unchanged (used by multi-batch restores).
   */
  appliedIndex?: number | undefined;
  /**
   * Wait for the write to reach stable storage (fsync) before resolving. Default false:
   * the state machine can always be rebuilt from the Raft log after its applied index,
   * so losing the last unsynced writes in a power failure only costs a replay, provided
   * the store never exposes a partial batch.
   */
  sync?: boolean | undefined;
}
