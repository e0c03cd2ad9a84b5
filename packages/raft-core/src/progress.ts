import { Inflights } from "./inflights.js";

/** How the leader replicates to one follower. */
export const ProgressState = {
  /**
   * The leader does not know where the follower's log matches its own: it sends one
   * append at a time and waits for the answer (or a heartbeat response) before the next.
   */
  Probe: "probe",
  /** The logs match up to `match`: appends are pipelined, bounded by the inflight window. */
  Replicate: "replicate",
  /** The follower needs a snapshot; nothing else is sent until the transfer is reported. */
  Snapshot: "snapshot",
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/** The leader's view of one member's log (Raft Figure 2's matchIndex and nextIndex). */
export class Progress {
  /** The highest index known to be replicated on the member. */
  match = 0;
  /** The index of the next entry to send. Invariant: `match < next`. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In `Snapshot` state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from during the current election-timeout period. */
  recentActive = false;
  /** The leader's tick count when the member was last heard from. */
  lastActiveTick = 0;
  /** Set when no further append may be sent until the member answers. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the member holds at least the snapshot, so probing starts past it.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Records that an append with `count` entries totalling `bytes`, whose last index is
   * `lastIndex`, was sent. In Replicate state the window advances optimistically; in Probe
   * state the flow pauses until the member answers.
   */
  sentEntries(count: number, bytes: number, lastIndex: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe) {
      // An empty probe carries only the commit index; it does not need an answer to continue.
      if (count > 0) this.msgAppFlowPaused = true;
    }
  }

  /**
   * Records that the member acknowledged everything up to `index`. Returns false when
   * the acknowledgement is stale (nothing new).
   */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * Handles a rejected append of `rejected` (the index the leader probed at). `matchHint`
   * is the leader's guess, from the member's conflict hint, of the highest index that may
   * match. Returns false when the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // A rejection at or below match answers an older append; in Replicate state the
      // logs are known to match up to match, so retry from just after it.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Outside Replicate, one append is in flight at a time and it was sent at next - 1.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when the leader must not send appends to this member now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msgAppFlowPaused;
      case ProgressState.Replicate:
        return this.msgAppFlowPaused;
      case ProgressState.Snapshot:
        return true;
    }
  }
}
