import { ApplyBatch, type RevisionOverlay } from "./apply-batch.js";
import type { BackendReader, BackendSnapshot, MvccBackend } from "./backend.js";
import { CorruptStateError } from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import { decodeRecord, type KvRecord } from "./kv-record.js";
import type { ReadView, RevisionRef } from "./range.js";
import { TreeIndex } from "./tree-index.js";
import { ValueCache } from "./value-cache.js";

/**
 * The in-memory side of a store: the key index, the revision counters, the latest-value
 * cache and the batch being applied. Only `apply` (one call at a time) and restore
 * mutate it; reads take a `ReadView` that stays consistent while apply runs on.
 */
export class MvccState {
  index = new TreeIndex();
  /** The revision of the last completed write txn; 1 for a new store, as in etcd. */
  currentRev = 1;
  /** The compacted main revision; -1 before any compaction, as in etcd. */
  compactRev = -1;
  readonly cache: ValueCache;
  /** The batch of the running `apply`, if any. */
  batch: ApplyBatch | undefined = undefined;

  constructor(
    readonly backend: MvccBackend,
    /** The slot of the backend this state lives in. */
    readonly keys: Keyspace,
    cacheBytes: number,
  ) {
    this.cache = new ValueCache(cacheBytes);
  }

  /**
   * A view of the current revision for a read outside apply. Must be used in the same
   * synchronous run of code that created it up to its first `fetch` call, which pins the
   * backend (the index itself is not copied).
   */
  readView(): ReadView {
    const overlay = this.batch?.overlay;
    return {
      rev: this.currentRev,
      compactRev: this.compactRev,
      index: this.index,
      fetch: (refs) => this.fetchPinned(refs, overlay),
    };
  }

  /** Records for apply: the running batch, then the live backend (no other writer runs). */
  fetchForApply(refs: readonly RevisionRef[]): Promise<KvRecord[]> {
    return this.fetchPinned(refs, this.batch?.overlay, this.backend);
  }

  /**
   * Resolves refs from the cache and the overlay synchronously, and only then (in the
   * same tick, before any await) pins a backend snapshot for the rest.
   */
  private async fetchPinned(
    refs: readonly RevisionRef[],
    overlay: RevisionOverlay | undefined,
    live?: BackendReader,
  ): Promise<KvRecord[]> {
    const records: KvRecord[] = new Array(refs.length);
    let missing: number[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const hit = this.cache.get(ref.ki, ref.main) ?? overlay?.get(ref.main)?.[ref.sub];
      if (hit) {
        records[i] = hit;
      } else {
        missing ??= [];
        missing.push(i);
      }
    }
    if (missing === undefined) return records;
    const snapshot: BackendSnapshot | undefined =
      live === undefined ? this.backend.snapshot() : undefined;
    const reader: BackendReader = live ?? snapshot!;
    try {
      await Promise.all(
        missing.map(async (i) => {
          const ref = refs[i]!;
          const bytes = await reader.get(this.keys.revisionKey(ref.main, ref.sub));
          if (bytes === undefined) {
            throw new CorruptStateError(
              `revision ${ref.main}.${ref.sub} is in the index but not in the backend`,
            );
          }
          const decoded = decodeRecord(bytes);
          if (decoded.tombstone) {
            throw new CorruptStateError(
              `revision ${ref.main}.${ref.sub} is a tombstone where a value was expected`,
            );
          }
          records[i] = decoded.record;
        }),
      );
    } finally {
      snapshot?.release();
    }
    for (const i of missing) this.refill(refs[i]!, records[i]!);
    return records;
  }

  /** Puts a record fetched from the backend back in the cache if it is still the key's latest. */
  private refill(ref: RevisionRef, record: KvRecord): void {
    const generations = ref.ki.generations;
    const revs = generations[generations.length - 1]!.revs;
    if (
      revs.length >= 2 &&
      revs[revs.length - 2] === ref.main &&
      revs[revs.length - 1] === ref.sub
    ) {
      this.cache.set(ref.ki, record);
    }
  }

  /** Starts collecting a new batch. */
  beginBatch(): ApplyBatch {
    this.batch = new ApplyBatch();
    return this.batch;
  }
}
