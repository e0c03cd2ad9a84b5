/**
 * The store's key layout in RocksDB's default column family. The first byte names a
 * keyspace, so that one atomic write batch can span metadata and the MVCC data
 * (rocksdb-native's batches are bound to one column family; see
 * docs/adr/006-wal-rocksdb-storage-layout.md). The Raft log is not in RocksDB (see
 * raft-wal.ts); format 1 kept it under `0x01`, which stays unused.
 *
 * - `0x00 name`: metadata records (identity, applied index).
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
  appliedIndex: metaKey("mvcc_applied_index"),
  walProbe: metaKey("wal_probe"),
} as const;

export const MVCC_START = Uint8Array.of(Keyspace.Mvcc);
export const MVCC_END = Uint8Array.of(Keyspace.Mvcc + 1);

/** The stored key of an MVCC key. */
export function mvccKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = Keyspace.Mvcc;
  out.set(key, 1);
  return out;
}
