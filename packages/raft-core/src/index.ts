export { CompactedError, UnavailableError } from "./errors.js";
export type { InitialState, LogReader, LogStore, SaveOptions } from "./log-store.js";
export type { StateMachine } from "./state-machine.js";
export type { PeerDirectory, Transport, TransportHandler } from "./transport.js";
export type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ReadState,
  SnapshotMetadata,
  SoftState,
} from "./types.js";
export { EntryType, MessageType, Role } from "./types.js";
