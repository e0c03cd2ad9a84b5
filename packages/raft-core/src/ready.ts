import type { Entry, HardState, Message, ReadState, SnapshotMetadata, SoftState } from "./types.js";

/**
 * One batch of work from `RawNode.ready()`. Process it in this order, then call
 * `advance(ready)`:
 *
 * 1. Send `messages` (they may go out before anything is saved: Raft thesis §10.2.1).
 * 2. If `snapshot` is set, install it (state machine, then log store).
 * 3. Save `hardState` and `entries` in one atomic write, synced when `mustSync`.
 * 4. Send `messagesAfterSave` — only now, since they promise what step 3 made durable.
 * 5. Apply `committedEntries` in order; serve `readStates` once applied far enough.
 * 6. `advance(ready)`.
 *
 * Only one Ready is outstanding at a time; `step`, `tick`, `propose` and the other inputs
 * may be called while it is being processed, and their effects come in the next one.
 */
export interface Ready {
  /** Set when the leader or role changed since the previous Ready. */
  softState?: SoftState | undefined;
  /** Set when term, vote or commit changed since the previous Ready. */
  hardState?: HardState | undefined;
  /** Entries to append to the log store; they may replace a conflicting suffix. */
  entries: Entry[];
  /** A snapshot from the leader to install before saving `entries`. */
  snapshot?: SnapshotMetadata | undefined;
  /** Entries to apply, in log order. They may include some of `entries` (apply after saving). */
  committedEntries: Entry[];
  /** Read-index requests whose index is now safe: serve each once applied `>= index`. */
  readStates: ReadState[];
  /** Messages that may be sent right away, grouped by destination. */
  messages: Message[];
  /** Messages that must wait until `hardState`, `entries` and `snapshot` are durable. */
  messagesAfterSave: Message[];
  /** True when the save must be synced to stable storage (term, vote or entries changed). */
  mustSync: boolean;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** True when a Ready carries no work at all. */
export function isReadyEmpty(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.snapshot === undefined &&
    rd.entries.length === 0 &&
    rd.committedEntries.length === 0 &&
    rd.readStates.length === 0 &&
    rd.messages.length === 0 &&
    rd.messagesAfterSave.length === 0
  );
}
