import { createRequire } from "node:module";
import { NativeBindingError } from "./errors.js";

/**
 * The slice of `rocksdb-native` (CommonJS, untyped) that wal-rocksdb uses, typed once
 * here so that no other module touches the untyped API. See docs/adr/003-rocksdb-binding.md.
 */

/** A key range; bounds are byte strings compared by RocksDB's default (memcmp) order. */
export interface NativeRange {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
  /** Entries fetched per native call. */
  capacity?: number;
}

export interface NativeEntry {
  key: Buffer;
  value: Buffer;
}

/** An atomic write batch; `flush()` applies every queued operation in one RocksDB write. */
export interface NativeWriteBatch {
  tryPut(key: Uint8Array, value: Uint8Array): void;
  tryDelete(key: Uint8Array): void;
  /** Deletes `[start, end)`. */
  tryDeleteRange(start: Uint8Array, end: Uint8Array): void;
  flush(): Promise<void>;
  destroy(): void;
}

/** A session: the database, or a point-in-time snapshot of it when made by `snapshot()`. */
export interface NativeSession {
  get(key: Uint8Array): Promise<Buffer | null>;
  iterator(range: NativeRange): AsyncIterable<NativeEntry> & { destroy(): void };
  /** `autoDestroy` frees the batch once flushed; without it every batch leaks a handle. */
  write(options: { autoDestroy: true; capacity?: number }): NativeWriteBatch;
  snapshot(): NativeSession;
  /** A further session sharing this one's snapshot (if any). */
  session(): NativeSession;
  close(): Promise<void>;
}

export interface NativeWalFile {
  /** Relative to the database directory, with a leading slash (e.g. `/000004.log`). */
  path: string;
  number: number;
  size: number;
}

export interface NativeDb extends NativeSession {
  ready(): Promise<void>;
  currentWalFile(): Promise<NativeWalFile>;
}

export interface NativeOpenOptions {
  createIfMissing?: boolean;
  /**
   * How RocksDB treats a damaged WAL tail on open; see `NativeWalRecovery`. wal-rocksdb
   * always asks for point-in-time recovery: the store comes back with a prefix of its
   * writes, in order (docs/adr/006-wal-rocksdb-storage-layout.md).
   */
  walRecoveryMode?: number;
  /** Bytes of memtable before a flush to an SST file. */
  writeBufferSize?: number;
}

/** rocksdb-native's `constants.walRecoveryMode` values (RocksDB's WALRecoveryMode). */
export const NativeWalRecovery = { PointInTime: 2 } as const;

type NativeConstructor = new (path: string, options: NativeOpenOptions) => NativeDb;

const require = createRequire(import.meta.url);
let constructorCache: NativeConstructor | undefined;

/**
 * Creates (but does not open) a RocksDB handle for `path`. Throws NativeBindingError when
 * the addon cannot be loaded (no prebuild for the platform, or a missing system library
 * such as libatomic1).
 */
export function createNativeDb(path: string, options: NativeOpenOptions): NativeDb {
  if (constructorCache === undefined) {
    try {
      constructorCache = require("rocksdb-native") as NativeConstructor;
    } catch (err) {
      throw new NativeBindingError(
        `cannot load the RocksDB binding rocksdb-native: ${(err as Error).message}` +
          " (on Debian/Ubuntu, `apt-get install libatomic1` provides the usual missing library)",
        { cause: err },
      );
    }
  }
  return new constructorCache(path, options);
}
