import { isU64 } from "./binary.js";
import {
  InvalidArgumentError,
  ReadFailedError,
  SnapshotReleasedError,
  StoreClosedError,
} from "./errors.js";
import type { GroupCommitter, PendingWrite, StoredOp } from "./group-commit.js";
import { MetaKey, MVCC_END, MVCC_START, mvccKey } from "./keys.js";
import { encodeIndex } from "./meta-codec.js";
import type { NativeDb, NativeSession } from "./native.js";

/**
 * These types mirror mvcc-kv's `MvccBackend` contract (packages/mvcc-kv/src/backend.ts)
 * structurally: wal-rocksdb may not import mvcc-kv, and mvcc-kv's backend suite checks
 * that this class satisfies its interface.
 */

/** Bounds of a range read, `[gte, lt)`; see `RocksMvccBackend.range`. */
export interface MvccRangeOptions {
  /** Inclusive lower bound; default: the smallest key. */
  gte?: Uint8Array | undefined;
  /** Exclusive upper bound; default: past the largest key. */
  lt?: Uint8Array | undefined;
  /** Largest key first. Default false. */
  reverse?: boolean | undefined;
  /** At most this many entries. Default: no limit. */
  limit?: number | undefined;
}

export interface MvccEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export type MvccOperation =
  | { type: "put"; key: Uint8Array; value: Uint8Array }
  | { type: "delete"; key: Uint8Array }
  | { type: "deleteRange"; gte: Uint8Array; lt: Uint8Array };

export interface MvccWriteBatch {
  operations: readonly MvccOperation[];
  /** Stored atomically with the operations; omitted leaves the applied index as it is. */
  appliedIndex?: number | undefined;
  /** fdatasync the WAL before resolving. Default false. */
  sync?: boolean | undefined;
}

/** Reads shared by the live backend and its snapshots. */
export interface MvccReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  range(options: MvccRangeOptions): AsyncIterable<MvccEntry>;
}

export interface MvccSnapshot extends MvccReader {
  readonly appliedIndex: number;
  release(): void;
}

/** Entries fetched per native iterator call during a range read. */
const RANGE_CAPACITY = 256;

/**
 * mvcc-kv's storage backend on the node's RocksDB: an ordered byte-key space (keys are
 * stored behind a one-byte keyspace prefix), atomic batches that carry the applied
 * index, lazy range iterators and point-in-time snapshots.
 *
 * Snapshot consistency: a RocksDB snapshot is pinned right before each group of writes
 * with MVCC operations is handed to RocksDB. While such groups are unresolved, the pin of
 * the oldest one is exactly "the state as of the last completed write"; `snapshot()`
 * shares it, so a snapshot never sees a write whose promise has not resolved.
 */
export class RocksMvccBackend {
  private closed = false;
  /** The applied index of the last resolved write. */
  private applied: number;
  /** The applied index of the last write RocksDB has applied (it may not be synced yet). */
  private landedApplied: number;
  /** The applied index of the last write accepted, which lands after all earlier ones. */
  private submittedApplied: number;
  /** One pin per unresolved group with MVCC writes, oldest first. */
  private readonly pins: Array<{
    group: readonly PendingWrite[];
    session: NativeSession;
    appliedIndex: number;
  }> = [];
  private readonly openSnapshots = new Set<RocksMvccSnapshot>();
  private readonly openIterators = new Set<{ destroy(): void }>();

  /** @internal Created by `openRocksStorage`. */
  constructor(
    private readonly db: NativeDb,
    private readonly committer: GroupCommitter,
    appliedIndex: number,
    private readonly onClose: () => Promise<void>,
  ) {
    this.applied = appliedIndex;
    this.landedApplied = appliedIndex;
    this.submittedApplied = appliedIndex;
  }

  /** The applied index stored with the last completed write; 0 for a new store. */
  appliedIndex(): number {
    return this.applied;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return readValue(this.db, key);
  }

  range(options: MvccRangeOptions): AsyncIterable<MvccEntry> {
    if (this.closed) return rejectingIterable(new StoreClosedError());
    return rangeOf(this.db, options, this.openIterators);
  }

  /**
   * Applies `batch` atomically together with its applied index. Rejects with
   * InvalidArgumentError (nothing written) on malformed operations or an applied index
   * that goes back, and with StorageFailedError when the disk write fails.
   */
  async write(batch: MvccWriteBatch): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    this.committer.checkWritable();
    const { ops, bytes } = toStoredOps(batch);
    const appliedIndex = batch.appliedIndex;
    if (appliedIndex !== undefined) {
      if (!isU64(appliedIndex)) {
        throw new InvalidArgumentError(`applied index ${appliedIndex} is not an index`);
      }
      ops.push({
        kind: "put",
        key: MetaKey.appliedIndex,
        value: encodeIndex(appliedIndex),
        coalesce: true,
      });
    }
    const wait = this.committer.reserve(bytes);
    if (wait === undefined) return this.enqueue(ops, bytes, appliedIndex, batch.sync === true);
    await wait;
    try {
      if (this.closed) throw new StoreClosedError();
      this.committer.checkWritable();
      return this.enqueue(ops, bytes, appliedIndex, batch.sync === true);
    } finally {
      this.committer.roomUsed();
    }
  }

  private enqueue(
    ops: StoredOp[],
    bytes: number,
    appliedIndex: number | undefined,
    sync: boolean,
  ): Promise<void> {
    // Checked against the last accepted write, not the last completed one: writes land in
    // the order they are accepted, and the stored index must never go back.
    if (appliedIndex !== undefined) {
      if (appliedIndex < this.submittedApplied) {
        throw new InvalidArgumentError(
          `applied index ${appliedIndex} is below the stored ${this.submittedApplied}`,
        );
      }
      this.submittedApplied = appliedIndex;
    }
    const write: PendingWrite = {
      ops,
      bytes,
      sync,
      pinsSnapshot: true,
      onLanded: () => {
        if (appliedIndex !== undefined && appliedIndex > this.landedApplied) {
          this.landedApplied = appliedIndex;
        }
      },
      onCommitted: () => {
        if (appliedIndex !== undefined && appliedIndex > this.applied) this.applied = appliedIndex;
      },
    };
    return this.committer.submit(write);
  }

  /**
   * A read-only view as of the last completed write. Synchronous. Release it when done:
   * an unreleased snapshot pins old versions in RocksDB.
   */
  snapshot(): MvccSnapshot {
    if (this.closed) throw new StoreClosedError();
    const pinned = this.pins[0];
    const session = pinned !== undefined ? pinned.session.session() : this.db.snapshot();
    const applied = pinned !== undefined ? pinned.appliedIndex : this.applied;
    const snap = new RocksMvccSnapshot(session, applied, this.openIterators, (s) =>
      this.openSnapshots.delete(s),
    );
    this.openSnapshots.add(snap);
    return snap;
  }

  /** @internal Group-commit hook: called with each group right before it is written. */
  beforeWrite(group: readonly PendingWrite[]): void {
    if (this.closed || !group.some((w) => w.pinsSnapshot === true)) return;
    this.pins.push({ group, session: this.db.snapshot(), appliedIndex: this.landedApplied });
  }

  /** @internal Group-commit hook: the group resolved (or failed). */
  afterWrite(group: readonly PendingWrite[]): void {
    const at = this.pins.findIndex((p) => p.group === group);
    if (at < 0) return;
    const [pin] = this.pins.splice(at, 1);
    void pin?.session.close().catch(() => {});
  }

  /**
   * Stops using the backend: live iterators end, unreleased snapshots become invalid.
   * The data dir is closed once the log store is closed too.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseAll();
    await this.onClose();
  }

  /** @internal Ends every iterator and snapshot so that RocksDB can close. */
  releaseAll(): void {
    for (const it of this.openIterators) it.destroy();
    this.openIterators.clear();
    for (const s of this.openSnapshots) s.release();
    for (const pin of this.pins.splice(0)) void pin.session.close().catch(() => {});
  }
}

class RocksMvccSnapshot implements MvccSnapshot {
  private released = false;

  constructor(
    private readonly session: NativeSession,
    readonly appliedIndex: number,
    private readonly iterators: Set<{ destroy(): void }>,
    private readonly onRelease: (s: RocksMvccSnapshot) => void,
  ) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.released) return Promise.reject(new SnapshotReleasedError());
    return readValue(this.session, key);
  }

  range(options: MvccRangeOptions): AsyncIterable<MvccEntry> {
    if (this.released) return rejectingIterable(new SnapshotReleasedError());
    return rangeOf(this.session, options, this.iterators);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
    void this.session.close().catch(() => {});
  }
}

async function readValue(session: NativeSession, key: Uint8Array): Promise<Uint8Array | undefined> {
  if (!(key instanceof Uint8Array)) throw new InvalidArgumentError("key must be a Uint8Array");
  try {
    const value = await session.get(mvccKey(key));
    return value === null ? undefined : plain(value);
  } catch (err) {
    throw new ReadFailedError(`read failed: ${(err as Error).message}`, { cause: err });
  }
}

function rangeOf(
  session: NativeSession,
  options: MvccRangeOptions,
  live: Set<{ destroy(): void }>,
): AsyncIterable<MvccEntry> {
  const { gte, lt, reverse, limit } = options;
  if (
    (gte !== undefined && !(gte instanceof Uint8Array)) ||
    (lt !== undefined && !(lt instanceof Uint8Array)) ||
    (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
  ) {
    return rejectingIterable(new InvalidArgumentError("malformed range options"));
  }
  return {
    async *[Symbol.asyncIterator]() {
      if (limit === 0) return;
      const it = session.iterator({
        gte: gte === undefined ? MVCC_START : mvccKey(gte),
        lt: lt === undefined ? MVCC_END : mvccKey(lt),
        reverse: reverse === true,
        ...(limit === undefined ? {} : { limit }),
        capacity: Math.min(RANGE_CAPACITY, limit ?? RANGE_CAPACITY),
      });
      live.add(it);
      try {
        for await (const { key, value } of it) {
          yield { key: plain(key).subarray(1), value: plain(value) };
        }
      } catch (err) {
        throw new ReadFailedError(`range read failed: ${(err as Error).message}`, { cause: err });
      } finally {
        live.delete(it);
        it.destroy();
      }
    },
  };
}

function rejectingIterable(err: Error): AsyncIterable<MvccEntry> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
  };
}

function toStoredOps(batch: MvccWriteBatch): { ops: StoredOp[]; bytes: number } {
  if (typeof batch !== "object" || batch === null || !Array.isArray(batch.operations)) {
    throw new InvalidArgumentError("a write batch needs an operations array");
  }
  const ops: StoredOp[] = [];
  let bytes = 32;
  for (const op of batch.operations) {
    if (op?.type === "put" && op.key instanceof Uint8Array && op.value instanceof Uint8Array) {
      ops.push({ kind: "put", key: mvccKey(op.key), value: op.value });
      bytes += op.key.length + op.value.length + 8;
    } else if (op?.type === "delete" && op.key instanceof Uint8Array) {
      ops.push({ kind: "delete", key: mvccKey(op.key) });
      bytes += op.key.length + 8;
    } else if (
      op?.type === "deleteRange" &&
      op.gte instanceof Uint8Array &&
      op.lt instanceof Uint8Array
    ) {
      ops.push({ kind: "deleteRange", start: mvccKey(op.gte), end: mvccKey(op.lt) });
      bytes += op.gte.length + op.lt.length + 8;
    } else {
      throw new InvalidArgumentError(`malformed operation of type ${String(op?.type)}`);
    }
  }
  return { ops, bytes };
}

/** A plain Uint8Array view of a Buffer, so callers see the type they wrote. */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
