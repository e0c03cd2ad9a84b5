/**
 * Base class of every error wal-rocksdb raises. `code` is stable across releases; the
 * underlying RocksDB or file-system error, when there is one, is kept as `cause`.
 */
export abstract class WalError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Another process (or another open store in this process) holds the data dir. */
export class DataDirLockedError extends WalError {
  readonly code = "DATA_DIR_LOCKED";
  readonly dir: string;

  constructor(dir: string, options?: { cause?: unknown }) {
    super(`data dir ${dir} is in use by another process or store; close it first`, options);
    this.dir = dir;
  }
}

/**
 * The data dir belongs to another cluster or member, was written in a format this
 * version does not read, or is not a raftkv data dir at all. Nothing was changed in it.
 */
export class DataDirMismatchError extends WalError {
  readonly code = "DATA_DIR_MISMATCH";
  readonly dir: string;

  constructor(dir: string, detail: string, options?: { cause?: unknown }) {
    super(`refusing data dir ${dir}: ${detail}`, options);
    this.dir = dir;
  }
}

/**
 * Stored data failed its integrity check somewhere a torn write cannot explain (before
 * the last entry of the log, or in Raft metadata). `index` names the first bad log
 * entry, or is undefined for metadata. The store did not start; restore this member
 * from a snapshot of a healthy one (or remove and re-add it).
 */
export class CorruptionError extends WalError {
  readonly code = "CORRUPTION";
  readonly index: number | undefined;

  constructor(message: string, index: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.index = index;
  }
}

/** A caller passed something the store cannot accept; nothing was written. */
export class InvalidArgumentError extends WalError {
  readonly code = "INVALID_ARGUMENT";
}

/**
 * A write or sync failed (full disk, I/O error, read-only file system). The store stops
 * accepting writes from then on (every later write rejects with this error), because
 * after a failed fsync the state of the disk is unknown. Writes acknowledged before the
 * failure are intact. Restart the process once the cause is fixed.
 */
export class StorageFailedError extends WalError {
  readonly code = "STORAGE_FAILED";
}

/** The store was closed; open it again to continue. */
export class StoreClosedError extends WalError {
  readonly code = "STORE_CLOSED";

  constructor(message = "the store is closed", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A snapshot was used after `release()`. */
export class SnapshotReleasedError extends WalError {
  readonly code = "SNAPSHOT_RELEASED";

  constructor(message = "the snapshot was released", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The RocksDB binding does not write its WAL to the operating system before a write
 * returns, so wal-rocksdb cannot make writes durable (see docs/adr/003-rocksdb-binding.md).
 */
export class DurabilityUnavailableError extends WalError {
  readonly code = "DURABILITY_UNAVAILABLE";
}

/** A read from RocksDB failed (I/O error, or the store closed under the read). */
export class ReadFailedError extends WalError {
  readonly code = "READ_FAILED";
}

/**
 * The RocksDB binding could not be loaded: no prebuilt binary for this platform, or a
 * missing system library (on Linux, `libatomic1` and `libstdc++6`). The cause names it.
 */
export class NativeBindingError extends WalError {
  readonly code = "NATIVE_BINDING";
}
