/**
 * Every error mvcc-kv reports. Each has a stable `code` for programs and, where etcd has
 * an equivalent, etcd's exact message and gRPC status code (etcd 3.4,
 * `etcdserver/api/v3rpc/rpctypes/error.go`), so that a server can answer etcd clients
 * with what they expect: `new ConnectError(err.message, err.grpcStatus)` or a raw
 * `grpc-status` / `grpc-message` pair.
 */

/** The gRPC status codes mvcc-kv uses (google.rpc.Code). */
export const GrpcStatus = {
  InvalidArgument: 3,
  NotFound: 5,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** The base class: `instanceof MvccError` catches every error of this package. */
export abstract class MvccError extends Error {
  /** A stable identifier, e.g. `"COMPACTED"`. */
  abstract readonly code: string;
  /** The gRPC status a server should answer with. */
  abstract readonly grpcStatus: GrpcStatus;
}

/** A key (of a request, an op in a txn, or a compare) is empty. */
export class EmptyKeyError extends MvccError {
  readonly code = "EMPTY_KEY";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "EmptyKeyError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: key is not provided", options);
  }
}

/**
 * A put with `ignore_value` or `ignore_lease` names a key that does not exist, or a txn
 * holds an op with no request set (etcd answers both with this message).
 */
export class KeyNotFoundError extends MvccError {
  readonly code = "KEY_NOT_FOUND";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "KeyNotFoundError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: key not found", options);
  }
}

/** A put sets `ignore_value` and also carries a value. */
export class ValueProvidedError extends MvccError {
  readonly code = "VALUE_PROVIDED";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "ValueProvidedError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: value is provided", options);
  }
}

/** A put sets `ignore_lease` and also carries a lease. */
export class LeaseProvidedError extends MvccError {
  readonly code = "LEASE_PROVIDED";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "LeaseProvidedError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: lease is provided", options);
  }
}

/** A txn has more compares, success ops or failure ops than `maxTxnOps`. */
export class TooManyOpsError extends MvccError {
  readonly code = "TOO_MANY_OPS";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "TooManyOpsError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: too many operations in txn request", options);
  }
}

/** A txn puts one key twice, or puts a key that it also deletes. */
export class DuplicateKeyError extends MvccError {
  readonly code = "DUPLICATE_KEY";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "DuplicateKeyError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: duplicate key given in txn request", options);
  }
}

/** The encoded request is larger than `maxRequestBytes`. */
export class RequestTooLargeError extends MvccError {
  readonly code = "REQUEST_TOO_LARGE";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "RequestTooLargeError";
  constructor(
    readonly size: number,
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super("etcdserver: request is too large", options);
  }
}

/** The revision asked for (read, compaction or hash) has been compacted away. */
export class CompactedError extends MvccError {
  readonly code = "COMPACTED";
  readonly grpcStatus = GrpcStatus.OutOfRange;
  override readonly name = "CompactedError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: mvcc: required revision has been compacted", options);
  }
}

/** The revision asked for is above the current revision. */
export class FutureRevisionError extends MvccError {
  readonly code = "FUTURE_REVISION";
  readonly grpcStatus = GrpcStatus.OutOfRange;
  override readonly name = "FutureRevisionError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: mvcc: required revision is a future revision", options);
  }
}

/** A put names a lease that the store's lease registry does not know. */
export class LeaseNotFoundError extends MvccError {
  readonly code = "LEASE_NOT_FOUND";
  readonly grpcStatus = GrpcStatus.NotFound;
  override readonly name = "LeaseNotFoundError";
  constructor(options?: ErrorOptions) {
    super("etcdserver: requested lease not found", options);
  }
}

/**
 * A request that etcd has no message for is malformed: a log entry that is not a
 * `KvRequest`, a request with nothing set, or an enum value outside the API.
 */
export class InvalidRequestError extends MvccError {
  readonly code = "INVALID_REQUEST";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "InvalidRequestError";
}

/**
 * A request id was applied before and its first result is no longer remembered (the
 * result was too large to keep, or too many requests came since). The request was not
 * applied a second time.
 */
export class DuplicateRequestError extends MvccError {
  readonly code = "DUPLICATE_REQUEST";
  readonly grpcStatus = GrpcStatus.FailedPrecondition;
  override readonly name = "DuplicateRequestError";
  constructor(
    readonly requestId: bigint,
    options?: ErrorOptions,
  ) {
    super(
      `raftkv: request ${requestId} was already applied; its result is no longer kept`,
      options,
    );
  }
}

/**
 * A backend write failed. The in-memory state ran ahead of the durable state, so the
 * store refuses all further work; reopen it (it resumes from the durable applied index and
 * the Raft log replays the rest). `cause` is the backend's error.
 */
export class StoreFailedError extends MvccError {
  readonly code = "STORE_FAILED";
  readonly grpcStatus = GrpcStatus.Unavailable;
  override readonly name = "StoreFailedError";
}

/** The store was closed. */
export class StoreClosedError extends MvccError {
  readonly code = "STORE_CLOSED";
  readonly grpcStatus = GrpcStatus.Unavailable;
  override readonly name = "StoreClosedError";
  constructor(options?: ErrorOptions) {
    super("raftkv: mvcc store is closed", options);
  }
}

/** An option given to `openMvccStore` is out of its range (e.g. a negative batch limit). */
export class InvalidOptionError extends MvccError {
  readonly code = "INVALID_OPTION";
  readonly grpcStatus = GrpcStatus.InvalidArgument;
  override readonly name = "InvalidOptionError";
}

/** Entries handed to `apply` do not follow the applied index without a gap. */
export class ApplyOrderError extends MvccError {
  readonly code = "APPLY_ORDER";
  readonly grpcStatus = GrpcStatus.Internal;
  override readonly name = "ApplyOrderError";
}

/**
 * Stored data or a snapshot stream cannot be read back: wrong format, bad checksum,
 * truncated, or inconsistent with itself.
 */
export class CorruptStateError extends MvccError {
  readonly code = "CORRUPT_STATE";
  readonly grpcStatus = GrpcStatus.DataLoss;
  override readonly name = "CorruptStateError";
}

/** The errors `apply` can return as an entry's result, by code (for the request-id table). */
export function applyErrorFromCode(code: string, message: string): MvccError {
  switch (code) {
    case "EMPTY_KEY":
      return new EmptyKeyError();
    case "KEY_NOT_FOUND":
      return new KeyNotFoundError();
    case "VALUE_PROVIDED":
      return new ValueProvidedError();
    case "LEASE_PROVIDED":
      return new LeaseProvidedError();
    case "DUPLICATE_KEY":
      return new DuplicateKeyError();
    case "COMPACTED":
      return new CompactedError();
    case "FUTURE_REVISION":
      return new FutureRevisionError();
    case "LEASE_NOT_FOUND":
      return new LeaseNotFoundError();
    default:
      return new InvalidRequestError(message);
  }
}
