export type { BackoffOptions } from "./backoff.js";
export {
  ClusterMismatchError,
  InvalidTransportOptionError,
  MalformedMessageError,
  MessageTooLargeError,
  PeerNotFoundError,
  PeerRejectedError,
  SnapshotChecksumError,
  SnapshotTransferError,
  TlsConfigError,
  TooManyStreamsError,
  TransportClosedError,
  TransportError,
  UnknownMemberError,
  WrongRecipientError,
} from "./errors.js";
export {
  FaultInjectingTransport,
  type FaultInjectorOptions,
  type FaultRule,
  type FaultState,
  PartitionedError,
} from "./fault-injection.js";
export type { TransportLogger } from "./logger.js";
export type { PeerAddress, PeerTransportOptions, SnapshotOptions } from "./options.js";
export type { PeerMethodHandler } from "./peer-server.js";
export type { DropReason, PeerStats, RejectReason } from "./peer-stats.js";
export { createPeerTransport, PeerTransport, type TransportStats } from "./peer-transport.js";
export type { PeerTlsOptions } from "./tls.js";
