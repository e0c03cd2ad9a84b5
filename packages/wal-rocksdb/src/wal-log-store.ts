import type {
  ConfState,
  Entry,
  HardState,
  InitialState,
  LogStore,
  SaveOptions,
  SnapshotMetadata,
} from "@raftkv/raft-core";
import { CompactedError, UnavailableError } from "@raftkv/raft-core";
import { isU64 } from "./binary.js";
import {
  CorruptionError,
  InvalidArgumentError,
  type StorageFailedError,
  StoreClosedError,
} from "./errors.js";
import type { WalLogger } from "./logger.js";
import { emptyConfState } from "./meta-codec.js";
import type { WalMetrics } from "./metrics.js";
import { RaftWal, type RaftWalOptions } from "./raft-wal.js";
import { encodeSaveRecord, encodeSnapshotRecord } from "./wal-record.js";

/**
 * The Raft log, hard state and snapshot metadata of one member, in an append-only WAL of
 * segment files (see raft-wal.ts) in the `raft` directory of the data dir.
 *
 * Every entry after the last snapshot is kept in memory (as etcd's MemoryStorage does),
 * so the LogReader methods are synchronous. The in-memory view moves forward when a
 * `save`, `compact` or `applySnapshot` is called, not when it resolves, so that calls
 * issued back to back see each other and are merged by group commit; the promise
 * resolves once the write is durable. If a write fails, the store refuses every later
 * write (StorageFailedError) and must be reopened, which reloads the durable state.
 */
export class WalLogStore implements LogStore {
  private loaded = false;
  private closed = false;
  private failure: StorageFailedError | undefined;
  private wal: RaftWal | undefined;
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snapshot: SnapshotMetadata = { index: 0, term: 0, confState: emptyConfState() };
  /** `log[i]` has index `snapshot.index + 1 + i`. */
  private log: Entry[] = [];

  /** @internal Created by `openRocksStorage`. */
  constructor(
    private readonly dir: string,
    private readonly options: RaftWalOptions,
    private readonly logger: WalLogger,
    private readonly metrics: WalMetrics,
    private readonly onClose: () => Promise<void>,
    private readonly onFail: (error: StorageFailedError) => void,
  ) {}

  /**
   * Replays the WAL: the hard state, the snapshot point and every entry after it, each
   * record's checksum verified. A torn write at the tail is cut with a warning; a bad
   * record followed by others, a missing segment or entry, or a commit index beyond the
   * last entry rejects with CorruptionError naming the first index that cannot be read.
   */
  async load(): Promise<InitialState> {
    this.checkOpen();
    if (this.loaded) throw new InvalidArgumentError("load() was already called");
    const { wal, contents } = await RaftWal.open(
      this.dir,
      this.options,
      this.logger,
      this.metrics,
      this.onFail,
    );
    if (this.failure !== undefined) wal.stopWith(this.failure);
    this.wal = wal;
    this.hardState = contents.hardState;
    this.snapshot = contents.snapshot;
    this.log = contents.entries;
    const last = this.lastIndex();
    if (this.hardState.commit > last) {
      throw new CorruptionError(
        `hard state commits index ${this.hardState.commit} but the log ends at ${last}: ` +
          `committed entries from ${last + 1} are missing`,
        last + 1,
      );
    }
    this.loaded = true;
    this.logger.info(
      {
        firstIndex: this.firstIndex(),
        lastIndex: last,
        term: this.hardState.term,
        commit: this.hardState.commit,
        snapshotIndex: this.snapshot.index,
      },
      "raft log loaded",
    );
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snapshot.confState) };
  }

  firstIndex(): number {
    return this.snapshot.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.index + this.log.length;
  }

  term(index: number): number {
    if (index === this.snapshot.index) return this.snapshot.term;
    if (index < this.snapshot.index) throw new CompactedError(index, this.firstIndex());
    const entry = this.log[index - this.snapshot.index - 1];
    if (entry === undefined) throw new UnavailableError(index, this.lastIndex());
    return entry.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.log[i - this.snapshot.index - 1];
      if (entry === undefined) break;
      bytes += entry.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  snapshotMetadata(): SnapshotMetadata {
    return { ...this.snapshot, confState: cloneConfState(this.snapshot.confState) };
  }

  /**
   * Writes `hardState` and `entries` in one record; entries at or below the last index
   * replace the conflicting suffix. Entries already covered by the snapshot are skipped.
   * The entries' `data` arrays are kept by reference for the in-memory log: do not
   * modify them afterwards. Every save is synced (the WAL writes through O_DSYNC), so
   * `options.sync` changes nothing. Rejects with InvalidArgumentError (writing nothing)
   * on a gap, non-contiguous or malformed entries, a term or vote that would go back, log
   * terms that decrease, or a commit index beyond the resulting log; with
   * StorageFailedError when the disk write fails.
   */
  async save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    _options: SaveOptions,
  ): Promise<void> {
    const wal = this.writable();
    const newEntries = this.checkSave(hardState, entries);
    if (newEntries.length === 0 && hardState === undefined) return wal.idle();
    const record = encodeSaveRecord(hardState, newEntries);
    const firstNew = newEntries[0];
    let maxIndex = 0;
    if (firstNew !== undefined) {
      maxIndex = firstNew.index + newEntries.length - 1;
      this.log.length = firstNew.index - this.snapshot.index - 1;
      for (const e of newEntries) this.log.push({ ...e });
    }
    if (hardState !== undefined) this.hardState = { ...hardState };
    return wal.append(record, {
      maxIndex,
      hardState: hardState === undefined ? undefined : this.hardState,
    });
  }

  /** Validates a save against the log as it is now; returns the entries to write. */
  private checkSave(hardState: HardState | undefined, entries: readonly Entry[]): readonly Entry[] {
    const newEntries = this.checkEntries(entries);
    if (hardState !== undefined) {
      this.checkHardState(hardState);
      const first = newEntries[0];
      const last = first === undefined ? this.lastIndex() : first.index + newEntries.length - 1;
      if (hardState.commit > last) {
        throw new InvalidArgumentError(
          `hard state commits index ${hardState.commit} but the log would end at ${last}`,
        );
      }
    }
    return newEntries;
  }

  /** Returns the part of `entries` not covered by the snapshot, after validating all. */
  private checkEntries(entries: readonly Entry[]): readonly Entry[] {
    if (!Array.isArray(entries)) throw new InvalidArgumentError("entries must be an array");
    let prev: Entry | undefined;
    for (const e of entries) {
      if (
        typeof e !== "object" ||
        e === null ||
        !isU64(e.index) ||
        e.index === 0 ||
        !isU64(e.term) ||
        !(e.type === 0 || e.type === 1 || e.type === 2) ||
        !(e.data instanceof Uint8Array)
      ) {
        throw new InvalidArgumentError(
          `malformed entry ${JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`,
        );
      }
      if (prev !== undefined && e.index !== prev.index + 1) {
        throw new InvalidArgumentError(
          `entries are not contiguous: ${prev.index} is followed by ${e.index}`,
        );
      }
      if (prev !== undefined && e.term < prev.term) {
        throw new InvalidArgumentError(
          `entry ${e.index} has term ${e.term}, lower than term ${prev.term} before it`,
        );
      }
      prev = e;
    }
    const first = entries[0];
    if (first === undefined) return entries;
    if (first.index > this.lastIndex() + 1) {
      throw new InvalidArgumentError(
        `entry ${first.index} would leave a gap: the log ends at ${this.lastIndex()}`,
      );
    }
    const skip = Math.max(0, this.firstIndex() - first.index);
    const kept = entries.slice(skip);
    const head = kept[0];
    if (head !== undefined && head.term < this.term(head.index - 1)) {
      throw new InvalidArgumentError(
        `entry ${head.index} has term ${head.term}, lower than term ${this.term(head.index - 1)} of entry ${head.index - 1}`,
      );
    }
    return kept;
  }

  private checkHardState(hs: HardState): void {
    if (
      typeof hs !== "object" ||
      hs === null ||
      !isU64(hs.term) ||
      !isU64(hs.vote) ||
      !isU64(hs.commit)
    ) {
      throw new InvalidArgumentError(`malformed hard state ${JSON.stringify(hs)}`);
    }
    const cur = this.hardState;
    if (hs.term < cur.term) {
      throw new InvalidArgumentError(`hard state term ${hs.term} is below the stored ${cur.term}`);
    }
    if (hs.term === cur.term && cur.vote !== 0 && hs.vote !== cur.vote) {
      throw new InvalidArgumentError(
        `hard state changes the vote in term ${hs.term} from ${cur.vote} to ${hs.vote}`,
      );
    }
  }

  /**
   * Replaces the whole log with a snapshot from the leader: afterwards the log is empty
   * and starts after `metadata.index` (Raft installs a snapshot only when its log lacks
   * the snapshot's last entry, so nothing after it can be kept). Rejects with
   * InvalidArgumentError, writing nothing, if the snapshot is older than the current one.
   */
  async applySnapshot(metadata: SnapshotMetadata): Promise<void> {
    const wal = this.writable();
    checkSnapshotMetadata(metadata);
    if (metadata.index < this.snapshot.index) {
      throw new InvalidArgumentError(
        `snapshot at ${metadata.index} is older than the current one at ${this.snapshot.index}`,
      );
    }
    const snapshot = { ...metadata, confState: cloneConfState(metadata.confState) };
    this.log = [];
    this.snapshot = snapshot;
    return wal.append(encodeSnapshotRecord(snapshot, true), { maxIndex: 0, snapshot, reset: true });
  }

  /**
   * Drops entries up to and including `index` (which the caller has applied) with one
   * range delete, recording the snapshot point (`index`, its term, `confState`) in the
   * same batch. An `index` at or below the current snapshot does nothing; one beyond the
   * last index rejects with InvalidArgumentError.
   */
  async compact(index: number, confState: ConfState): Promise<void> {
    const wal = this.writable();
    if (!isU64(index)) throw new InvalidArgumentError(`compact index ${index} is not an index`);
    checkConfState(confState);
    if (index <= this.snapshot.index) return;
    if (index > this.lastIndex()) {
      throw new InvalidArgumentError(
        `compact index ${index} is beyond the last index ${this.lastIndex()}`,
      );
    }
    const snapshot = { index, term: this.term(index), confState: cloneConfState(confState) };
    this.log = this.log.slice(index - this.snapshot.index);
    this.snapshot = snapshot;
    // Segments whose entries the snapshot covers are deleted once this record is durable.
    return wal.append(encodeSnapshotRecord(snapshot, false), { maxIndex: 0, snapshot });
  }

  /**
   * Waits for queued writes and stops using the store; the data dir is closed once the
   * MVCC backend is closed too.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.wal?.close();
    } finally {
      await this.onClose();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError("the log store is closed");
  }

  /** @internal Refuses later writes with `error` (the data dir's other store failed). */
  stopWith(error: StorageFailedError): void {
    this.failure ??= error;
    this.wal?.stopWith(error);
  }

  /** The WAL, once loaded and while writable; throws otherwise. */
  private writable(): RaftWal {
    this.checkOpen();
    if (!this.loaded || this.wal === undefined) {
      throw new InvalidArgumentError("load() must be called first");
    }
    this.wal.checkWritable();
    return this.wal;
  }
}

function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

function checkConfState(cs: ConfState): void {
  const ok =
    typeof cs === "object" &&
    cs !== null &&
    [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].every(
      (ids) => Array.isArray(ids) && ids.every(isU64),
    ) &&
    typeof cs.autoLeave === "boolean";
  if (!ok) throw new InvalidArgumentError(`malformed conf state ${JSON.stringify(cs)}`);
}

function checkSnapshotMetadata(meta: SnapshotMetadata): void {
  if (typeof meta !== "object" || meta === null || !isU64(meta.index) || !isU64(meta.term)) {
    throw new InvalidArgumentError(`malformed snapshot metadata ${JSON.stringify(meta)}`);
  }
  checkConfState(meta.confState);
}
