/**
 * raft-core's own view of the peer protocol in `proto/raftkv/raft/v1/raft.proto`.
 *
 * Index, term and member ids are JavaScript numbers here (exact to 2^53, which is far
 * beyond any log a member will write); the protobuf `uint64` values are converted once,
 * at the transport and storage edges (see `wire.ts`). Enum values equal the proto's.
 */

/** A member id: a positive safe integer. 0 means "none". */
export type NodeId = number;

/** Mirrors `raftkv.raft.v1.EntryType`. */
export const EntryType = {
  Normal: 0,
  ConfChange: 1,
  ConfChangeV2: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One entry of the replicated log. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be durable before a member answers any message (Raft Figure 2). */
export interface HardState {
  term: number;
  /** The member voted for in `term`, 0 for none. */
  vote: NodeId;
  commit: number;
}

/** Cluster membership; mirrors `raftkv.raft.v1.ConfState`. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  votersOutgoing: NodeId[];
  learnersNext: NodeId[];
  autoLeave: boolean;
}

/** What a snapshot covers: the log up to and including `index`, whose entry had `term`. */
export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/**
 * Mirrors `raftkv.raft.v1.MessageType` for the values 1–13 that travel between members.
 * Values of 100 and above are local to a member and never sent.
 */
export const MessageType = {
  Append: 1,
  AppendResponse: 2,
  Vote: 3,
  VoteResponse: 4,
  PreVote: 5,
  PreVoteResponse: 6,
  Heartbeat: 7,
  HeartbeatResponse: 8,
  Snapshot: 9,
  ReadIndex: 10,
  ReadIndexResponse: 11,
  TimeoutNow: 12,
  TransferLeader: 13,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A message between members; mirrors `raftkv.raft.v1.Message`. */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  /** Only on `MessageType.Snapshot`: what the snapshot covers. Its data travels separately. */
  snapshot?: SnapshotMetadata | undefined;
  reject: boolean;
  rejectHint: number;
  /** Heartbeats and read-index rounds carry a context; empty otherwise. */
  context?: Uint8Array | undefined;
}

/** The role a member plays; `PreCandidate` runs a pre-vote before a real election. */
export const Role = {
  Follower: "follower",
  PreCandidate: "pre-candidate",
  Candidate: "candidate",
  Leader: "leader",
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Volatile state that the application may want to observe; not persisted. */
export interface SoftState {
  /** The leader this member knows of, 0 if none. */
  leader: NodeId;
  role: Role;
}

/** A read request whose `index` is now safe: serve it once `appliedIndex >= index`. */
export interface ReadState {
  index: number;
  /** The context given to `readIndex(context)`. */
  context: Uint8Array;
}

/** Mirrors `raftkv.raft.v1.ConfChangeType`. */
export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  UpdateNode: 2,
  AddLearnerNode: 3,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** Mirrors `raftkv.raft.v1.ConfChangeTransition`. */
export const ConfChangeTransition = {
  /** Joint consensus only when more than one voter changes, left automatically. */
  Auto: 0,
  /** Always joint, left automatically once committed. */
  JointImplicit: 1,
  /** Always joint, left only by an explicit empty ConfChangeV2. */
  JointExplicit: 2,
} as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

/** One membership change; mirrors `raftkv.raft.v1.ConfChangeSingle`. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

/**
 * Several membership changes applied together; mirrors `raftkv.raft.v1.ConfChangeV2`.
 * An empty `changes` list leaves a joint configuration.
 */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  /** Opaque to Raft; the server stores a new member's name and peer URLs here. */
  context: Uint8Array;
}

/** A single-member change, the older form; mirrors `raftkv.raft.v1.ConfChange`. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context: Uint8Array;
  id: number;
}
