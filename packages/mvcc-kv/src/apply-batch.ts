import type { BackendOperation } from "./backend.js";
import type { KvRecord } from "./kv-record.js";

/**
 * The writes of one or more consecutive `apply` calls, collected for a single atomic
 * backend write, and the records they add, readable before the write lands. A batch is
 * only ever cut between apply calls, so `appliedIndex` names exactly the entries whose
 * effects it completes: after a crash the backend holds a prefix of whole batches, and
 * Raft replays the rest. Readers keep a reference to the overlays they saw, so what they
 * read never depends on when a write completes.
 */
export class ApplyBatch {
  readonly operations: BackendOperation[] = [];
  /** Records written in this batch by main revision, indexed by sub revision (null: tombstone). */
  readonly overlay: RevisionOverlay = new Map();
  /** Key and value bytes of `operations`: what the batch holds in memory until written. */
  bytes = 0;

  constructor(
    /** The index of the last entry whose effects the batch completes. */
    public appliedIndex: number,
  ) {}

  put(key: Uint8Array, value: Uint8Array): void {
    this.operations.push({ type: "put", key, value });
    this.bytes += key.length + value.length;
  }

  delete(key: Uint8Array): void {
    this.operations.push({ type: "delete", key });
    this.bytes += key.length;
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

/** Unwritten records: main revision → sub revision → record. */
export type RevisionOverlay = Map<number, (KvRecord | null)[]>;
