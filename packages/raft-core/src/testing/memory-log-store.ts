import { StoppedError, StorageError } from "../errors.js";
import type { InitialState, LogStore, SaveOptions } from "../log-store.js";
import type { ConfState, Entry, HardState, SnapshotMetadata } from "../types.js";
import { MemoryStorage } from "./memory-storage.js";

/** Options of a MemoryLogStore. */
export interface MemoryLogStoreOptions {
  /** Start from this storage (e.g. one left by `crash()`); default an empty log. */
  storage?: MemoryStorage | undefined;
  /**
   * Data kept alongside the snapshot point, typically the state machine's snapshot, so
   * that a volatile state machine can be restored after a simulated restart.
   */
  snapshotData?: Uint8Array | undefined;
}

/**
 * An in-memory LogStore for tests and examples. It models durability: an unsynced save
 * (`sync: false`) is visible at once but only becomes durable with the next synced one,
 * and `crash()` returns what a restart after a power loss would find — the durable part
 * only. Compaction and snapshots are durable at once.
 *
 * Failures can be injected with `failNextSaves(n, error)`.
 */
export class MemoryLogStore implements LogStore {
  private live: MemoryStorage;
  /** What survives a crash, when it differs from `live` (after unsynced saves). */
  private durable: { hardState: HardState; storage: MemoryStorage | undefined } | undefined;
  private closed = false;
  private failures = 0;
  private failure: Error | undefined;
  /** Opaque data attached to the snapshot point (see MemoryLogStoreOptions.snapshotData). */
  snapshotData: Uint8Array | undefined;
  /** Number of saves, and of synced ones, for tests that check batching. */
  saves = 0;
  syncedSaves = 0;

  constructor(options: MemoryLogStoreOptions = {}) {
    this.live = options.storage ?? new MemoryStorage();
    this.snapshotData = options.snapshotData;
  }

  /** The underlying synchronous storage (the live view). */
  get storage(): MemoryStorage {
    return this.live;
  }

  async load(): Promise<InitialState> {
    this.checkOpen();
    return {
      hardState: { ...this.live.hardState },
      confState: this.live.confState(),
    };
  }

  async save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    options: SaveOptions,
  ): Promise<void> {
    this.checkOpen();
    this.maybeFail();
    if (!options.sync) {
      // Keep a copy of the last durable state before changing the live one.
      if (this.durable === undefined) {
        this.durable = { hardState: { ...this.live.hardState }, storage: undefined };
      }
      if (entries.length > 0 && this.durable.storage === undefined) {
        this.durable.storage = this.live.clone();
      }
    }
    this.live.append(entries);
    if (hardState !== undefined) this.live.setHardState(hardState);
    this.saves++;
    if (options.sync) {
      this.syncedSaves++;
      this.durable = undefined;
    }
    await Promise.resolve();
  }

  async applySnapshot(metadata: SnapshotMetadata): Promise<void> {
    this.checkOpen();
    this.maybeFail();
    this.live.applySnapshot(metadata);
    this.durable?.storage?.applySnapshot(metadata);
  }

  async compact(index: number, confState: ConfState): Promise<void> {
    this.checkOpen();
    this.live.compact(index, confState);
    const d = this.durable?.storage;
    if (d !== undefined && index <= d.lastIndex()) d.compact(index, confState);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A new store holding only what was durable: what a restart after a crash finds. */
  crash(): MemoryLogStore {
    const storage = (this.durable?.storage ?? this.live).clone();
    if (this.durable !== undefined) storage.setHardState(this.durable.hardState);
    return new MemoryLogStore({ storage, snapshotData: this.snapshotData });
  }

  /** The next `count` saves (or snapshot installs) reject with `error`. */
  failNextSaves(count: number, error: Error = new StorageError("injected save failure")): void {
    this.failures = count;
    this.failure = error;
  }

  firstIndex(): number {
    return this.live.firstIndex();
  }

  lastIndex(): number {
    return this.live.lastIndex();
  }

  term(index: number): number {
    return this.live.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.live.entries(lo, hi, maxBytes);
  }

  snapshotMetadata(): SnapshotMetadata {
    return this.live.snapshotMetadata();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoppedError("the log store is closed");
  }

  private maybeFail(): void {
    if (this.failures > 0) {
      this.failures--;
      throw this.failure ?? new StorageError("injected save failure");
    }
  }
}
