export type { ApplyResult, KvResponse } from "./apply-result.js";
export type {
  BackendEntry,
  BackendOperation,
  BackendRangeOptions,
  BackendReader,
  BackendSnapshot,
  BackendWriteBatch,
  MvccBackend,
} from "./backend.js";
export {
  DEFAULT_BATCH_INTERVAL_MS,
  DEFAULT_BATCH_LIMIT_BYTES,
  DEFAULT_BATCH_LIMIT_OPS,
  DEFAULT_MAX_PENDING_BYTES,
} from "./backend-flusher.js";
export {
  ApplyOrderError,
  CompactedError,
  CorruptStateError,
  DuplicateKeyError,
  DuplicateRequestError,
  EmptyKeyError,
  FutureRevisionError,
  GrpcStatus,
  InvalidOptionError,
  InvalidRequestError,
  KeyNotFoundError,
  LeaseNotFoundError,
  LeaseProvidedError,
  MvccError,
  RequestTooLargeError,
  StoreClosedError,
  StoreFailedError,
  TooManyOpsError,
  ValueProvidedError,
} from "./errors.js";
export { type LeaseRegistry, NO_LEASES } from "./leases.js";
export { BackendClosedError, createMemoryBackend } from "./memory-backend.js";
export {
  type ApplyEntry,
  type HashKvResult,
  type MvccLogger,
  MvccStore,
  type MvccStoreOptions,
  openMvccStore,
  type RestoreMetadata,
} from "./mvcc-store.js";
export {
  MAX_REMEMBERED_RESULT_BYTES,
  REQUEST_ID_WINDOW,
  REQUEST_RESULT_WINDOW_BYTES,
} from "./request-table.js";
export { DEFAULT_SNAPSHOT_CHUNK_BYTES } from "./snapshot-stream.js";
export {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
  encodeKvRequest,
  isTxnReadOnly,
  isTxnSerializable,
  type RequestLimits,
  validateDeleteRangeRequest,
  validateKvRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "./validate.js";
export { DEFAULT_VALUE_CACHE_BYTES } from "./value-cache.js";
