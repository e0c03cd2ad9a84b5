/** Why a message to a peer was dropped instead of sent. Raft retransmits all of them. */
export type DropReason =
  /** The peer's send queue was full: the peer or the network is slower than Raft. */
  | "queue_full"
  /** The peer was unreachable (connection down, waiting to reconnect). */
  | "unreachable"
  /** One message was larger than `maxSendMessageBytes`. */
  | "too_large";

/** Counters kept per peer; plain numbers, updated per batch, read by metrics and tests. */
export interface PeerStats {
  /** Messages and bytes (framed) written to the peer's streams. */
  sentMessages: number;
  sentBytes: number;
  sentBatches: number;
  /** Messages and bytes (framed) received from the peer and handed to Raft. */
  receivedMessages: number;
  receivedBytes: number;
  receivedBatches: number;
  dropped: Record<DropReason, number>;
  /** Connections opened after the first one. */
  reconnects: number;
  connected: boolean;
  /** The most recent round-trip time of a batch and its acknowledgement, in ms. */
  lastRoundTripMs: number | undefined;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotBytesSent: number;
  /** Times a broken snapshot transfer continued where the receiver's data ended. */
  snapshotResumes: number;
  snapshotsReceived: number;
}

export function createPeerStats(): PeerStats {
  return {
    sentMessages: 0,
    sentBytes: 0,
    sentBatches: 0,
    receivedMessages: 0,
    receivedBytes: 0,
    receivedBatches: 0,
    dropped: { queue_full: 0, unreachable: 0, too_large: 0 },
    reconnects: 0,
    connected: false,
    lastRoundTripMs: undefined,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    snapshotBytesSent: 0,
    snapshotResumes: 0,
    snapshotsReceived: 0,
  };
}

/** Why incoming traffic was refused; counted per reason, across peers. */
export type RejectReason =
  | "cluster_mismatch"
  | "unknown_member"
  | "wrong_recipient"
  | "too_large"
  | "malformed"
  | "unsupported"
  /** A member opened more message streams than `maxInboundStreamsPerPeer`. */
  | "too_many_streams"
  /** A TLS handshake failed (for example, no or an untrusted client certificate). */
  | "tls";
