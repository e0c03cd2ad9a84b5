import type { Message, NodeId } from "./types.js";

/** Receives what arrives from peers. */
export interface TransportHandler {
  /** Messages from peers, in the order they arrived. */
  onMessages(messages: Message[]): void;
  /**
   * A snapshot from the leader: `message` has type `MessageType.Snapshot`, `data` its
   * state-machine data. Resolves once the member has taken the snapshot in (or rejected
   * it); the sender learns the outcome from the promise.
   */
  onSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
}

/**
 * Carries messages between members. Delivery is best effort: Raft tolerates loss,
 * duplication and reordering, so `send` never blocks and may drop under pressure.
 */
export interface Transport {
  /** Starts delivering incoming messages to `handler`. */
  start(handler: TransportHandler): Promise<void>;
  /** Queues messages for their `to` member. Never throws for an unreachable peer. */
  send(messages: readonly Message[]): void;
  /**
   * Streams a snapshot to `message.to`. Resolves when the receiver has taken it in;
   * rejects if the transfer failed, after which Raft will try again.
   */
  sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  close(): Promise<void>;
}

/** Members that the transport must be able to reach, by id. */
export interface PeerDirectory {
  addPeer(id: NodeId, urls: readonly string[]): void;
  removePeer(id: NodeId): void;
}
