import { MvccError } from "@raftkv/mvcc-kv";
import { RaftError } from "@raftkv/raft-core";
import { ReadBarrierError } from "@raftkv/read-strategies";
import { GrpcCode, GrpcStatusError } from "./grpc/status.js";

/**
 * etcd's answers for the server's own failures (etcd 3.4, rpctypes/error.go). The
 * UNAVAILABLE ones say nothing about whether a write was applied; FAILED_PRECONDITION,
 * INVALID_ARGUMENT and RESOURCE_EXHAUSTED are used only when the write can never be
 * applied later.
 */
export const etcdErrors = {
  noLeader: () => new GrpcStatusError(GrpcCode.UNAVAILABLE, "etcdserver: no leader"),
  leaderChanged: () => new GrpcStatusError(GrpcCode.UNAVAILABLE, "etcdserver: leader changed"),
  stopped: () => new GrpcStatusError(GrpcCode.UNAVAILABLE, "etcdserver: server stopped"),
  timeout: () => new GrpcStatusError(GrpcCode.UNAVAILABLE, "etcdserver: request timed out"),
  timeoutLeaderFail: () =>
    new GrpcStatusError(
      GrpcCode.UNAVAILABLE,
      "etcdserver: request timed out, possibly due to previous leader failure",
    ),
  timeoutConnectionLost: () =>
    new GrpcStatusError(
      GrpcCode.UNAVAILABLE,
      "etcdserver: request timed out, possibly due to connection lost",
    ),
  timeoutWaitApplied: () =>
    new GrpcStatusError(
      GrpcCode.UNAVAILABLE,
      "etcdserver: request timed out, waiting for the applied index took too long",
    ),
  tooManyRequests: () =>
    new GrpcStatusError(GrpcCode.RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
  requestTooLarge: () =>
    new GrpcStatusError(GrpcCode.INVALID_ARGUMENT, "etcdserver: request is too large"),
  corrupt: () => new GrpcStatusError(GrpcCode.DATA_LOSS, "etcdserver: corrupt cluster"),
  canceled: () => new GrpcStatusError(GrpcCode.CANCELLED, "context canceled"),
  deadline: () => new GrpcStatusError(GrpcCode.DEADLINE_EXCEEDED, "context deadline exceeded"),
} as const;

/**
 * Turns any error a handler raised into the gRPC status a client sees. Errors that leave
 * a write's fate unknown (timeouts, aborts, stops) map to UNAVAILABLE or
 * DEADLINE_EXCEEDED; only errors that prove the write was not and will not be applied
 * map to codes that say so.
 */
export function toGrpcStatus(error: unknown): GrpcStatusError {
  if (error instanceof GrpcStatusError) return error;
  if (error instanceof MvccError) {
    // A retried request whose first result is no longer kept: it was applied, so a code
    // that says "not applied" would lie; UNAVAILABLE leaves the outcome open.
    if (error.code === "DUPLICATE_REQUEST") {
      return new GrpcStatusError(GrpcCode.UNAVAILABLE, error.message, { cause: error });
    }
    return new GrpcStatusError(error.grpcStatus as GrpcCode, error.message, { cause: error });
  }
  if (error instanceof RaftError) {
    switch (error.code) {
      case "LEADER_NOT_FOUND":
        return etcdErrors.noLeader();
      case "NOT_LEADER":
        // Only reached when forwarding to the leader was not possible.
        return etcdErrors.noLeader();
      case "PROPOSAL_DROPPED":
        // Not applied, but the client may retry at once: etcd answers a dropped proposal
        // with "too many requests" when overloaded and "leader changed" otherwise.
        return (error as { reason?: string }).reason === "uncommitted-size-exceeded"
          ? etcdErrors.tooManyRequests()
          : etcdErrors.leaderChanged();
      case "READ_INDEX_DROPPED":
        return etcdErrors.leaderChanged();
      case "TIMEOUT":
      case "PROPOSAL_OUTCOME_UNKNOWN":
        return etcdErrors.timeout();
      case "ABORTED":
        return etcdErrors.canceled();
      case "STOPPED":
        return etcdErrors.stopped();
      default:
        return new GrpcStatusError(GrpcCode.INTERNAL, `etcdserver: ${error.message}`, {
          cause: error,
        });
    }
  }
  if (error instanceof ReadBarrierError) {
    switch (error.code) {
      case "SESSION_READ_TIMEOUT":
        return etcdErrors.timeoutWaitApplied();
      case "READ_ABORTED":
        return etcdErrors.canceled();
      default:
        return etcdErrors.stopped();
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GrpcStatusError(GrpcCode.UNKNOWN, message, { cause: error });
}
