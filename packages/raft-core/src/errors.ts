import type { NodeId } from "./types.js";

/**
 * Base class of every error raft-core raises. `code` is stable across releases, so callers
 * (and the server, which maps each code to one gRPC status) can branch on it.
 */
export abstract class RaftError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A proposal or read reached a member that is not the leader; `leaderHint` names the leader. */
export class NotLeaderError extends RaftError {
  readonly code = "NOT_LEADER";
  /** The leader this member knows of. Never 0: with no known leader, `LeaderNotFoundError` is raised. */
  readonly leaderHint: NodeId;

  constructor(leaderHint: NodeId, options?: { cause?: unknown }) {
    super(`this member is not the leader; the leader is member ${leaderHint}`, options);
    this.leaderHint = leaderHint;
  }
}

/** There is no leader right now (an election is running or quorum is lost). Retry later. */
export class LeaderNotFoundError extends RaftError {
  readonly code = "LEADER_NOT_FOUND";

  constructor(
    message = "no leader is known; an election may be in progress",
    options?: {
      cause?: unknown;
    },
  ) {
    super(message, options);
  }
}

/** Why a proposal was dropped. Every reason means the entry was definitely not applied. */
export type ProposalDropReason =
  /** The leader's uncommitted log exceeds `maxUncommittedEntriesSize`. */
  | "uncommitted-size-exceeded"
  /** Leadership is being transferred to another member. */
  | "leader-transfer"
  /** Another configuration change has not been applied yet, or the change is invalid. */
  | "conf-change-rejected"
  /** The entry was overwritten by a new leader's entry at the same index. */
  | "overwritten";

/** The proposal was definitely not applied, and never will be; it is safe to retry. */
export class ProposalDroppedError extends RaftError {
  readonly code = "PROPOSAL_DROPPED";
  readonly reason: ProposalDropReason;

  constructor(reason: ProposalDropReason, message?: string, options?: { cause?: unknown }) {
    super(message ?? `proposal dropped: ${reason}`, options);
    this.reason = reason;
  }
}

/**
 * The proposal's entry was covered by a snapshot received from the leader before this
 * member applied it, so whether it was committed is unknown: it may have been applied.
 */
export class ProposalOutcomeUnknownError extends RaftError {
  readonly code = "PROPOSAL_OUTCOME_UNKNOWN";
}

/** The node was closed; nothing more will be proposed, applied or read through it. */
export class StoppedError extends RaftError {
  readonly code = "STOPPED";

  constructor(message = "the raft node is stopped", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The deadline passed before the operation finished. For a proposal the outcome is
 * ambiguous: the entry may still be committed and applied later.
 */
export class TimeoutError extends RaftError {
  readonly code = "TIMEOUT";
}

/**
 * The caller's AbortSignal fired before the operation finished. For a proposal the outcome
 * is ambiguous: the entry may still be committed and applied later. `cause` is the signal's reason.
 */
export class AbortError extends RaftError {
  readonly code = "ABORTED";
}

/** The leader has too many read-index requests waiting; the request was not queued. */
export class ReadIndexDroppedError extends RaftError {
  readonly code = "READ_INDEX_DROPPED";
}

/** A log read asked for an index that was compacted into a snapshot. */
export class CompactedError extends RaftError {
  readonly code = "COMPACTED";
  readonly index: number;
  readonly firstIndex: number;

  constructor(index: number, firstIndex: number, options?: { cause?: unknown }) {
    super(`index ${index} is compacted; the log starts at ${firstIndex}`, options);
    this.index = index;
    this.firstIndex = firstIndex;
  }
}

/** A log read asked for an index beyond the last entry. */
export class UnavailableError extends RaftError {
  readonly code = "UNAVAILABLE";
  readonly index: number;
  readonly lastIndex: number;

  constructor(index: number, lastIndex: number, options?: { cause?: unknown }) {
    super(`index ${index} is beyond the last index ${lastIndex}`, options);
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/** A configuration value is missing or out of range; the message names the option. */
export class InvalidConfigError extends RaftError {
  readonly code = "INVALID_CONFIG";
}

/** A message handed to `step` is malformed (unknown type, local-only type, bad ids). */
export class InvalidMessageError extends RaftError {
  readonly code = "INVALID_MESSAGE";
}

/** An API was used out of order, such as `advance` without a matching `ready`. */
export class IllegalStateError extends RaftError {
  readonly code = "ILLEGAL_STATE";
}

/** A configuration change cannot be applied to the current configuration. */
export class InvalidConfChangeError extends RaftError {
  readonly code = "INVALID_CONF_CHANGE";
}

/** A storage (LogStore) operation failed; `cause` holds the underlying error. */
export class StorageError extends RaftError {
  readonly code = "STORAGE";
}

/** A snapshot could not be received or installed; `cause` holds the underlying error. */
export class SnapshotError extends RaftError {
  readonly code = "SNAPSHOT";
}
