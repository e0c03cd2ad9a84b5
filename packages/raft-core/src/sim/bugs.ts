import { Raft } from "../raft.js";
import { RaftLog } from "../raft-log.js";
import { type Message, MessageType } from "../types.js";

/** Deliberate protocol bugs, to show that the simulation's checker catches them. */
export type BugName =
  /** A voter grants a second vote in a term it already voted in. */
  | "double-vote"
  /** A leader commits by counting replicas of entries of earlier terms (Raft Figure 8). */
  | "commit-old-term";

export const BUG_NAMES: readonly BugName[] = ["double-vote", "commit-old-term"];

/**
 * Patches the Raft implementation in this process to have `bug`, and returns a function
 * that removes it. For tests and the `sim --bug` flag only: it changes every RawNode
 * created or used until undone.
 */
export function injectBug(bug: BugName): () => void {
  switch (bug) {
    case "double-vote": {
      const original = Raft.prototype.step;
      Raft.prototype.step = function (this: Raft, m: Message): void {
        if (
          m.type === MessageType.Vote &&
          m.term === this.term &&
          this.vote !== 0 &&
          this.vote !== m.from
        ) {
          // Forget the earlier vote (and the leader it led to), so this request is granted too.
          this.vote = 0;
          this.lead = 0;
        }
        original.call(this, m);
      };
      return () => {
        Raft.prototype.step = original;
      };
    }
    case "commit-old-term": {
      const original = RaftLog.prototype.maybeCommit;
      RaftLog.prototype.maybeCommit = function (this: RaftLog, index: number): boolean {
        if (index > this.committed) {
          this.commitTo(index);
          return true;
        }
        return false;
      };
      return () => {
        RaftLog.prototype.maybeCommit = original;
      };
    }
    default:
      throw new Error(`unknown bug ${String(bug)}; known: ${BUG_NAMES.join(", ")}`);
  }
}
