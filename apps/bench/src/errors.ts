/**
 * Base class of every error raftkv-bench raises. `code` is stable, so scripts can branch on
 * it; `cause` keeps the underlying error.
 */
export abstract class BenchError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option or command-line flag is missing, malformed or out of range. */
export class InvalidOptionError extends BenchError {
  readonly code = "INVALID_OPTION";
}

/**
 * The peer broke the HTTP/2 or HPACK rules (RFC 9113, RFC 7541), or sent something this
 * client does not accept. The connection is closed; every call on it fails with this.
 */
export class Http2ProtocolError extends BenchError {
  readonly code = "HTTP2_PROTOCOL";
}

/**
 * The connection closed (or could not be opened) while the call was in flight. For a
 * write the outcome is unknown: the server may have applied it.
 */
export class ConnectionClosedError extends BenchError {
  readonly code = "CONNECTION_CLOSED";
}

/** The call got no response within its timeout; it was cancelled, its outcome is unknown. */
export class CallTimeoutError extends BenchError {
  readonly code = "CALL_TIMEOUT";
}

/** More calls are waiting for a free stream than `maxQueuedCalls` allows. */
export class QueueFullError extends BenchError {
  readonly code = "QUEUE_FULL";
}

/** The server answered with a gRPC status other than OK. */
export class GrpcStatusError extends BenchError {
  readonly code = "GRPC_STATUS";

  constructor(
    /** The numeric gRPC status (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
    readonly status: number,
    /** The decoded `grpc-message` trailer. */
    readonly grpcMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`grpc status ${status}: ${grpcMessage}`, options);
  }
}

/** A cluster member did not start, or the cluster elected no leader in time. */
export class ClusterStartError extends BenchError {
  readonly code = "CLUSTER_START";
}

/** A load worker process failed, exited early or sent a malformed report. */
export class WorkerError extends BenchError {
  readonly code = "WORKER_FAILED";
}

/** An external tool (h2load) failed or printed output this package cannot parse. */
export class ToolError extends BenchError {
  readonly code = "TOOL_FAILED";
}
