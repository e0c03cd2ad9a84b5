import type { ApplyBatch, RevisionOverlay } from "./apply-batch.js";
import type { BackendReader, BackendSnapshot, MvccBackend } from "./backend.js";
import type { BackendFlusher } from "./backend-flusher.js";
import { CorruptStateError } from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import { decodeRecord, type KvRecord } from "./kv-record.js";
import type { ReadView, RevisionRef } from "./range.js";
import { TreeIndex } from "./tree-index.js";
import { ValueCache } from "./value-cache.js";

/**
 * The in-memory side of a store: the key index, the revision counters, the latest-value
 * cache, and (through the flusher) the batches applied but not yet written. Only `apply`
 * (one call at a time) and restore mutate it; reads take a `ReadView` that stays
 * consistent while apply and background writes run on.
 */
export class MvccState {
  index = new TreeIndex();
  /** The revision of the last completed write txn; 1 for a new store, as in etcd. */
  currentRev = 1;
  /** The compacted main revision; -1 before any compaction, as in etcd. */
  compactRev = -1;
  readonly cache: ValueCache;

  constructor(
    readonly backend: MvccBackend,
    /** Where applied writes wait for the backend. */
    readonly writes: BackendFlusher,
    /** The slot of the backend this state lives in. */
    readonly keys: Keyspace,
    cacheBytes: number,
  ) {
    this.cache = new ValueCache(cacheBytes);
  }

  /** The batch applies write into. */
  get batch(): ApplyBatch {
    return this.writes.open;
  }

  /**
   * A view of the current revision for a read outside apply. Must be used in the same
   * synchronous run of code that created it up to its first `fetch` call, which pins the
   * backend (the index itself is not copied).
   */
  readView(): ReadView {
    const overlays = this.writes.overlays();
    return {
      rev: this.currentRev,
      compactRev: this.compactRev,
      index: this.index,
      fetch: (refs) => this.fetchPinned(refs, overlays),
    };
  }

  /**
   * Records for apply: unwritten batches, then the live backend. Background writes only
   * add what the overlays already hold, and only apply removes revisions (compaction, of
   * revisions the index no longer names), so the live backend is safe to read here.
   */
  fetchForApply(refs: readonly RevisionRef[]): Promise<KvRecord[]> {
    return this.fetchPinned(refs, this.writes.overlays(), this.backend);
  }

  /**
   * Resolves refs from the cache and the overlays synchronously, and only then (in the
   * same tick, before any await) pins a backend snapshot for the rest: a revision is
   * either in an overlay the reader captured or in a write completed before the pin.
   */
  private async fetchPinned(
    refs: readonly RevisionRef[],
    overlays: readonly RevisionOverlay[],
    live?: BackendReader,
  ): Promise<KvRecord[]> {
    const records: KvRecord[] = new Array(refs.length);
    let missing: number[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const hit = this.cache.get(ref.ki, ref.main) ?? fromOverlays(overlays, ref);
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
}

/** The record of `ref` in the overlay holding its main revision (at most one does). */
function fromOverlays(
  overlays: readonly RevisionOverlay[],
  ref: RevisionRef,
): KvRecord | null | undefined {
  for (let i = overlays.length - 1; i >= 0; i--) {
    const subs = overlays[i]!.get(ref.main);
    if (subs !== undefined) return subs[ref.sub];
  }
  return undefined;
}
