import type { BackendOperation } from "./backend.js";
import type { KvRecord } from "./kv-record.js";

/**
 * The writes of one `apply` call, collected for a single atomic backend write, and the
 * records they add, readable before the write lands. Readers that start while the write
 * is in flight keep a reference to the overlay, so what they see never depends on when
 * the write completes.
 */
export class ApplyBatch {
  readonly operations: BackendOperation[] = [];
  /** Records written in this batch by main revision, indexed by sub revision (null: tombstone). */
  readonly overlay: RevisionOverlay = new Map();

  put(key: Uint8Array, value: Uint8Array): void {
    this.operations.push({ type: "put", key, value });
  }

  delete(key: Uint8Array): void {
    this.operations.push({ type: "delete", key });
  }

  /** Records revision (main, sub) in the overlay (`null` for a tombstone). */
  remember(main: number, sub: number, record: KvRecord | null): void {
    let subs = this.overlay.get(main);
    if (subs === undefined) {
      subs = [];
      this.overlay.set(main, subs);
    }
    subs[sub] = record;
  }
}

/** Unflushed records: main revision → sub revision → record. */
export type RevisionOverlay = Map<number, (KvRecord | null)[]>;
