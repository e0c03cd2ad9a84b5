/**
 * @raftkv/raft-core: the Raft consensus algorithm as a pure, deterministic state machine
 * (`RawNode`) and an asynchronous driver (`RaftNode`) over three contracts other packages
 * implement: `LogStore`, `Transport` and `StateMachine`. In-memory implementations and a
 * simulation harness are in `@raftkv/raft-core/testing`.
 */
export { type BootstrapState, bootstrapState } from "./bootstrap.js";
export {
  AbortError,
  CompactedError,
  IllegalStateError,
  InvalidConfChangeError,
  InvalidConfigError,
  InvalidMessageError,
  LeaderNotFoundError,
  NotLeaderError,
  ProposalDroppedError,
  type ProposalDropReason,
  ProposalOutcomeUnknownError,
  RaftError,
  ReadIndexDroppedError,
  SnapshotError,
  StoppedError,
  StorageError,
  TimeoutError,
  UnavailableError,
} from "./errors.js";
export type { InitialState, LogReader, LogStore, SaveOptions } from "./log-store.js";
export { type Logger, silentLogger } from "./logger.js";
export { ProgressState } from "./progress.js";
export {
  type CallOptions,
  createRaftNode,
  type LeaderChange,
  RaftNode,
  type RaftNodeOptions,
  type RaftNodeStatus,
} from "./raft-node.js";
export {
  type LogView,
  type ProgressStatus,
  type ProposalPosition,
  RawNode,
  type RawNodeOptions,
  type Status,
} from "./raw-node.js";
export { isReadyEmpty, type Ready } from "./ready.js";
export { createRng, type Rng, Xoshiro128 } from "./rng.js";
export type { StateMachine } from "./state-machine.js";
export type { PeerDirectory, Transport, TransportHandler } from "./transport.js";
export {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  type ReadState,
  Role,
  type SnapshotMetadata,
  type SoftState,
} from "./types.js";
export {
  confStateFromProto,
  confStateToProto,
  decodeConfChange,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshotMetadata,
  entryFromProto,
  entryToProto,
  hardStateFromProto,
  hardStateToProto,
  messageFromProto,
  messageToProto,
  snapshotMetadataFromProto,
  snapshotMetadataToProto,
  WireFormatError,
} from "./wire.js";
