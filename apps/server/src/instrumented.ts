import type { ApplyResult, MvccStore } from "@raftkv/mvcc-kv";
import type {
  ConfState,
  Entry,
  HardState,
  InitialState,
  LogStore,
  SaveOptions,
  SnapshotMetadata,
  StateMachine,
} from "@raftkv/raft-core";
import type { Histogram } from "prom-client";

/**
 * The log store with the latency of every save recorded, labelled by whether it was
 * synced: the synced ones are the fsync latency of the write path (etcd's
 * `wal_fsync_duration_seconds`).
 */
export class InstrumentedLogStore implements LogStore {
  constructor(
    private readonly inner: LogStore,
    private readonly saveDuration: Histogram<"sync">,
  ) {}

  firstIndex(): number {
    return this.inner.firstIndex();
  }
  lastIndex(): number {
    return this.inner.lastIndex();
  }
  term(index: number): number {
    return this.inner.term(index);
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.inner.entries(lo, hi, maxBytes);
  }
  snapshotMetadata(): SnapshotMetadata {
    return this.inner.snapshotMetadata();
  }
  load(): Promise<InitialState> {
    return this.inner.load();
  }
  async save(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    options: SaveOptions,
  ): Promise<void> {
    const end = this.saveDuration.startTimer({ sync: options.sync ? "true" : "false" });
    await this.inner.save(hardState, entries, options);
    end();
  }
  applySnapshot(metadata: SnapshotMetadata): Promise<void> {
    return this.inner.applySnapshot(metadata);
  }
  compact(index: number, confState: ConfState): Promise<void> {
    return this.inner.compact(index, confState);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The key-value store as Raft's state machine, with the latency of each applied batch recorded. */
export class InstrumentedStateMachine implements StateMachine<ApplyResult> {
  /** Called after every applied batch (the read barrier's progress report). */
  onApplied: () => void = () => {};

  constructor(
    private readonly store: MvccStore,
    private readonly applyDuration: Histogram,
  ) {}

  appliedIndex(): number {
    return this.store.appliedIndex();
  }
  async apply(entries: readonly Entry[]): Promise<ApplyResult[]> {
    const end = this.applyDuration.startTimer();
    const results = await this.store.apply(entries);
    end();
    this.onApplied();
    return results;
  }
  snapshot(): AsyncIterable<Uint8Array> {
    return this.store.snapshot();
  }
  async restore(metadata: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    await this.store.restore(metadata, data);
    this.onApplied();
  }
}
