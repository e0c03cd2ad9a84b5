import { bytesToKey, keyToBytes } from "./key-bytes.js";
import { createRecord, encodeTombstone, type KvRecord } from "./kv-record.js";
import type { MvccState } from "./mvcc-state.js";
import type { ReadView, RevisionRef } from "./range.js";

/**
 * One write transaction during apply (etcd's `storeTxnWrite`): every change it makes
 * gets main revision `beginRev + 1` and the next sub revision, and the store's revision
 * moves on by one in `end()` if anything changed. Reads through it see its own earlier
 * changes, at `beginRev + 1` once there is one.
 */
export class WriteTxn implements ReadView {
  readonly beginRev: number;
  /** How many revisions (puts and tombstones) this txn wrote so far. */
  changes = 0;

  constructor(private readonly state: MvccState) {
    this.beginRev = state.currentRev;
  }

  get rev(): number {
    return this.changes > 0 ? this.beginRev + 1 : this.beginRev;
  }

  get compactRev(): number {
    return this.state.compactRev;
  }

  get index() {
    return this.state.index;
  }

  fetch(refs: readonly RevisionRef[]): Promise<KvRecord[]> {
    return this.state.fetchForApply(refs);
  }

  /** Writes a new version of `key`; returns the revision of the write. */
  put(key: Uint8Array, value: Uint8Array, lease: bigint): number {
    const { state } = this;
    const main = this.beginRev + 1;
    const sub = this.changes++;
    const ki = state.index.getOrCreate(bytesToKey(key));
    const found = ki.get(main);
    const { bytes, record } = createRecord(
      key,
      value,
      found === undefined ? main : found.created,
      main,
      found === undefined ? 1 : found.version + 1,
      lease,
    );
    ki.put(main, sub);
    const { batch } = state;
    batch.put(state.keys.revisionKey(main, sub), bytes);
    batch.remember(main, sub, record);
    state.cache.set(ki, record);
    return main;
  }

  /** Deletes every key of the range that exists now; returns how many. */
  deleteRange(key: string, end: string | undefined): number {
    const { state } = this;
    const doomed: RevisionRef[] = [];
    state.index.visible(key, end, this.rev, (ki, found) => {
      doomed.push({ ki, main: found.main, sub: found.sub });
    });
    const main = this.beginRev + 1;
    const { batch } = state;
    for (const { ki } of doomed) {
      const sub = this.changes++;
      ki.tombstone(main, sub);
      const keyBytes = ki.cached?.key;
      batch.put(state.keys.revisionKey(main, sub), encodeTombstone(keyBytes ?? keyToBytes(ki.key)));
      batch.remember(main, sub, null);
      state.cache.clear(ki);
    }
    return doomed.length;
  }

  /** Finishes the txn: the store's revision advances if anything changed. */
  end(): void {
    if (this.changes > 0) this.state.currentRev = this.beginRev + 1;
  }
}
