import { readU64, writeU64 } from "./binary.js";

/**
 * The store's key layout in RocksDB's default column family. The first byte names a
 * keyspace, so that one atomic write batch can span the Raft log, Raft metadata and the
 * MVCC data (rocksdb-native's batches are bound to one column family; see
 * docs/adr/006-wal-rocksdb-storage-layout.md).
 *
 * - `0x00 name`: metadata records (identity, hard state, snapshot, applied index).
 * - `0x01 index(u64 BE)`: one Raft log entry.
 * - `0x02 key`: one MVCC backend key, as given by the caller.
 */
export const Keyspace = { Meta: 0x00, Log: 0x01, Mvcc: 0x02 } as const;

function metaKey(name: string): Uint8Array {
  const key = new Uint8Array(1 + name.length);
  key[0] = Keyspace.Meta;
  for (let i = 0; i < name.length; i++) key[i + 1] = name.charCodeAt(i);
  return key;
}

export const MetaKey = {
  identity: metaKey("identity"),
  hardState: metaKey("hard_state"),
  snapshot: metaKey("snapshot"),
  appliedIndex: metaKey("mvcc_applied_index"),
  walProbe: metaKey("wal_probe"),
} as const;

/** Key of the log entry at `index`. */
export function logKey(index: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = Keyspace.Log;
  writeU64(new DataView(key.buffer), 1, index);
  return key;
}

/** The index a log key holds, or -1 when the key is not a well-formed log key. */
export function logKeyIndex(key: Uint8Array): number {
  if (key.length !== 9 || key[0] !== Keyspace.Log) return -1;
  return readU64(new DataView(key.buffer, key.byteOffset, key.byteLength), 1);
}

/** Upper bound of the whole log keyspace. */
export const LOG_END = Uint8Array.of(Keyspace.Log + 1);
export const MVCC_START = Uint8Array.of(Keyspace.Mvcc);
export const MVCC_END = Uint8Array.of(Keyspace.Mvcc + 1);

/** The stored key of an MVCC key. */
export function mvccKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = Keyspace.Mvcc;
  out.set(key, 1);
  return out;
}
