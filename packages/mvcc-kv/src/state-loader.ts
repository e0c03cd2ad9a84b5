import type { BackendEntry } from "./backend.js";
import { CorruptStateError } from "./errors.js";
import { bytesEqual, bytesToKey } from "./key-bytes.js";
import { PART_META, PART_REQUEST, PART_REVISION, readUint64BE } from "./keyspace.js";
import { decodeRecord } from "./kv-record.js";
import type { MvccState } from "./mvcc-state.js";
import type { RequestTable } from "./request-table.js";

/**
 * Rebuilds the in-memory state from the entries of one slot fed in key order (a store
 * opening, or a restored snapshot): the compacted revision, the key index replayed
 * revision by revision as etcd's `restoreIntoIndex` does, the latest-value cache, and the
 * request-id table. Any entry it cannot place is `CorruptStateError`.
 */
export class StateLoader {
  private lastMain = 1;

  constructor(
    private readonly state: MvccState,
    private readonly requests: RequestTable,
  ) {}

  add({ key, value }: BackendEntry): void {
    const { keys } = this.state;
    switch (keys.part(key)) {
      case PART_META:
        if (!bytesEqual(key, keys.compactedKey) || value.length !== 8) {
          throw new CorruptStateError("unknown or malformed metadata entry in the backend");
        }
        this.state.compactRev = readUint64BE(value, 0);
        return;
      case PART_REVISION:
        this.addRevision(key, value);
        return;
      case PART_REQUEST:
        this.requests.load(keys.parseRequestKey(key), value);
        return;
      default:
        throw new CorruptStateError(`backend key with unknown prefix ${String(key[0])}`);
    }
  }

  /** Sets the current revision once every entry was added. */
  finish(): void {
    this.state.currentRev = Math.max(1, this.lastMain, this.state.compactRev);
  }

  private addRevision(key: Uint8Array, value: Uint8Array): void {
    const { main, sub } = this.state.keys.parseRevisionKey(key);
    const decoded = decodeRecord(value);
    const { index, cache } = this.state;
    this.lastMain = main;
    if (decoded.tombstone) {
      const ki = index.keyIndex(bytesToKey(decoded.key));
      // A tombstone whose key has no history left was compacted together with it.
      if (ki === undefined) return;
      ki.tombstone(main, sub);
      cache.clear(ki);
      return;
    }
    const { record } = decoded;
    const existing = index.keyIndex(bytesToKey(record.key));
    if (existing === undefined) {
      const ki = index.getOrCreate(bytesToKey(record.key));
      ki.restore(record.createRevision, main, sub, record.version);
      cache.set(ki, record);
    } else {
      existing.put(main, sub);
      cache.set(existing, record);
    }
  }
}
