import type { NodeId } from "@raftkv/raft-core";

/**
 * Base class of every error the transport raises. `code` is stable across releases, so
 * callers (and the server, which maps codes to gRPC statuses) can branch on it.
 */
export abstract class TransportError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option passed to the transport is out of range or inconsistent; the message names it. */
export class InvalidTransportOptionError extends TransportError {
  readonly code = "TRANSPORT_INVALID_OPTION";
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** A certificate, key or CA file could not be read. */
export class TlsConfigError extends TransportError {
  readonly code = "TRANSPORT_TLS_CONFIG";
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read TLS file ${file}`, options);
  }
}

/** A message (one gRPC frame) is larger than the receive limit; the stream is closed. */
export class MessageTooLargeError extends TransportError {
  readonly code = "TRANSPORT_MESSAGE_TOO_LARGE";
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`message of ${bytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
}

/** Bytes that do not decode as the expected protobuf message, or a bad gRPC frame. */
export class MalformedMessageError extends TransportError {
  readonly code = "TRANSPORT_MALFORMED_MESSAGE";
}

/** A peer of another cluster reached this member (for example a stale or misconfigured node). */
export class ClusterMismatchError extends TransportError {
  readonly code = "TRANSPORT_CLUSTER_MISMATCH";
  constructor(
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`cluster id ${hex(actual)} does not match this member's cluster ${hex(expected)}`);
  }
}

/** A message came from a member id this member does not know (removed, or never added). */
export class UnknownMemberError extends TransportError {
  readonly code = "TRANSPORT_UNKNOWN_MEMBER";
  constructor(readonly memberId: bigint | NodeId) {
    super(`member ${memberId} is not a known member of this cluster`);
  }
}

/** A message was addressed to another member than the one that received it. */
export class WrongRecipientError extends TransportError {
  readonly code = "TRANSPORT_WRONG_RECIPIENT";
  constructor(
    readonly to: bigint | NodeId,
    readonly self: NodeId,
  ) {
    super(`message addressed to member ${to} reached member ${self}`);
  }
}

/** A member opened more concurrent message streams than `maxInboundStreamsPerPeer`. */
export class TooManyStreamsError extends TransportError {
  readonly code = "TRANSPORT_TOO_MANY_STREAMS";
  constructor(
    readonly peer: NodeId,
    readonly limit: number,
  ) {
    super(`member ${peer} already has ${limit} open message streams`);
  }
}

/** A peer answered with a gRPC error; `grpcStatus` and the peer's message are kept. */
export class PeerRejectedError extends TransportError {
  readonly code = "TRANSPORT_PEER_REJECTED";
  constructor(
    readonly peer: NodeId,
    readonly grpcStatus: number,
    readonly grpcMessage: string,
  ) {
    super(`member ${peer} rejected the call: ${grpcMessage} (grpc-status ${grpcStatus})`);
  }
}

/** The received snapshot data does not match the sender's CRC-32C; it was discarded. */
export class SnapshotChecksumError extends TransportError {
  readonly code = "TRANSPORT_SNAPSHOT_CHECKSUM_MISMATCH";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `snapshot checksum mismatch: sender's CRC-32C ${expected.toString(16)}, received data has ${actual.toString(16)}`,
    );
  }
}

/** A snapshot could not be delivered; Raft will send a new one later. `cause` says why. */
export class SnapshotTransferError extends TransportError {
  readonly code = "TRANSPORT_SNAPSHOT_FAILED";
}

/** The peer is not in the directory (never added, or removed). */
export class PeerNotFoundError extends TransportError {
  readonly code = "TRANSPORT_PEER_NOT_FOUND";
  constructor(readonly peer: NodeId) {
    super(`member ${peer} is not a peer of this transport`);
  }
}

/** The transport was closed while the operation was running, or before it started. */
export class TransportClosedError extends TransportError {
  readonly code = "TRANSPORT_CLOSED";
  constructor(options?: { cause?: unknown }) {
    super("the transport is closed", options);
  }
}

function hex(id: bigint): string {
  return `0x${id.toString(16)}`;
}
