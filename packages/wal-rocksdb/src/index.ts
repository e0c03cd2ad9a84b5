export {
  CorruptionError,
  DataDirLockedError,
  DataDirMismatchError,
  DurabilityUnavailableError,
  InvalidArgumentError,
  NativeBindingError,
  ReadFailedError,
  SnapshotReleasedError,
  StorageFailedError,
  StoreClosedError,
  WalError,
} from "./errors.js";
export type { GroupCommitOptions } from "./group-commit.js";
export type { WalLogger } from "./logger.js";
export type {
  MvccEntry,
  MvccOperation,
  MvccRangeOptions,
  MvccReader,
  MvccSnapshot,
  MvccWriteBatch,
} from "./rocks-mvcc-backend.js";
export { RocksMvccBackend } from "./rocks-mvcc-backend.js";
export {
  FORMAT_VERSION,
  type OpenRocksStorageOptions,
  openRocksStorage,
  type RocksStorage,
} from "./rocks-storage.js";
export { WalLogStore } from "./wal-log-store.js";
