import type { KeyIndex } from "./key-index.js";
import type { KvRecord } from "./kv-record.js";

/** Default byte budget of the latest-value cache: 256 MiB. */
export const DEFAULT_VALUE_CACHE_BYTES = 256 * 1024 * 1024;

/** Bookkeeping bytes charged per cached record on top of its key and value. */
const RECORD_OVERHEAD = 96;

/**
 * Keeps the record of each key's latest revision in memory (on its `KeyIndex`), within a
 * byte budget, so that apply (prev_kv, ignore_value, compares, txn ranges) and reads of
 * the current revision rarely wait for the backend. Least recently written keys are
 * evicted first; reads do not reorder, so a read stays a plain field access.
 *
 * The cache never changes a result: a record is immutable, and a lookup only answers
 * for the exact revision it holds.
 */
export class ValueCache {
  private readonly order = new Set<KeyIndex>();
  private used = 0;

  constructor(readonly maxBytes: number = DEFAULT_VALUE_CACHE_BYTES) {}

  /** Bytes currently charged. */
  get bytes(): number {
    return this.used;
  }

  /** The cached record of `ki` if it is the one written at main revision `main`. */
  get(ki: KeyIndex, main: number): KvRecord | undefined {
    const cached = ki.cached;
    return cached !== undefined && cached.modRevision === main ? cached : undefined;
  }

  /** Caches `record` as the latest of `ki`, evicting older entries beyond the budget. */
  set(ki: KeyIndex, record: KvRecord): void {
    if (ki.cached !== undefined) {
      this.used -= cost(ki.cached);
      this.order.delete(ki);
    }
    const size = cost(record);
    if (size > this.maxBytes) {
      ki.cached = undefined;
      return;
    }
    ki.cached = record;
    this.used += size;
    this.order.add(ki);
    if (this.used > this.maxBytes) this.evict();
  }

  /** Forgets the record of `ki` (the key was deleted, or its index dropped). */
  clear(ki: KeyIndex): void {
    if (ki.cached === undefined) return;
    this.used -= cost(ki.cached);
    ki.cached = undefined;
    this.order.delete(ki);
  }

  /** Forgets everything. */
  reset(): void {
    for (const ki of this.order) ki.cached = undefined;
    this.order.clear();
    this.used = 0;
  }

  private evict(): void {
    for (const ki of this.order) {
      if (this.used <= this.maxBytes) return;
      this.used -= cost(ki.cached!);
      ki.cached = undefined;
      this.order.delete(ki);
    }
  }
}

function cost(record: KvRecord): number {
  return record.key.length + record.value.length + RECORD_OVERHEAD;
}
