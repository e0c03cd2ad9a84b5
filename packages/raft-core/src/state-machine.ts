import type { Entry, SnapshotMetadata } from "./types.js";

/**
 * The replicated state machine that committed entries are applied to, in log order.
 * `R` is the result returned to the proposer of each entry.
 */
export interface StateMachine<R = unknown> {
  /**
   * The index of the last entry whose effects this state machine has made durable; 0 for
   * a volatile one. On start, the driver replays only the committed log after it.
   */
  appliedIndex(): number;
  /**
   * Applies committed entries in order and returns one result per entry (entries that
   * are not `EntryType.Normal`, and empty normal entries, get `undefined`). Must be
   * deterministic: every member applying the same entries reaches the same state.
   */
  apply(entries: readonly Entry[]): R[] | Promise<R[]>;
  /**
   * A point-in-time copy of the whole state as of `appliedIndex()` at the moment of the
   * call, streamed in chunks; later applies must not change what it yields.
   */
  snapshot(): AsyncIterable<Uint8Array>;
  /** Replaces the whole state with a snapshot's data; afterwards `appliedIndex()` is `metadata.index`. */
  restore(metadata: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void>;
}
