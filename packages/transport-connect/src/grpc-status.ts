import {
  ClusterMismatchError,
  MalformedMessageError,
  MessageTooLargeError,
  PeerNotFoundError,
  SnapshotChecksumError,
  TooManyStreamsError,
  TransportClosedError,
  UnknownMemberError,
  WrongRecipientError,
} from "./errors.js";

/** The gRPC status codes this transport sends or interprets (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** The status a receiver answers with when it refuses input because of `error`. */
export function statusOf(error: unknown): GrpcStatus {
  if (error instanceof MessageTooLargeError) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (error instanceof MalformedMessageError) return GrpcStatus.INVALID_ARGUMENT;
  if (error instanceof ClusterMismatchError) return GrpcStatus.FAILED_PRECONDITION;
  if (error instanceof WrongRecipientError) return GrpcStatus.FAILED_PRECONDITION;
  if (error instanceof UnknownMemberError) return GrpcStatus.PERMISSION_DENIED;
  if (error instanceof PeerNotFoundError) return GrpcStatus.PERMISSION_DENIED;
  if (error instanceof SnapshotChecksumError) return GrpcStatus.DATA_LOSS;
  if (error instanceof TransportClosedError) return GrpcStatus.UNAVAILABLE;
  if (error instanceof TooManyStreamsError) return GrpcStatus.RESOURCE_EXHAUSTED;
  return GrpcStatus.INTERNAL;
}

/**
 * Whether a call that failed with `status` is worth retrying on a new connection: the
 * peer did not look at the request, as opposed to refusing it.
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status === GrpcStatus.UNAVAILABLE ||
    status === GrpcStatus.CANCELLED ||
    status === GrpcStatus.UNKNOWN ||
    status === GrpcStatus.DEADLINE_EXCEEDED
  );
}

// grpc-message is percent-encoded: printable ASCII except '%' travels as is.
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeGrpcMessage(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    // A peer that sent invalid percent-encoding still deserves to be quoted.
    return encoded;
  }
}
