import { InvalidConfigError } from "./errors.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type NodeId,
} from "./types.js";
import { encodeConfChangeV2 } from "./wire.js";

/** The first durable state of a new cluster's founding member. */
export interface BootstrapState {
  /** One committed configuration-change entry per founding member, at term 1. */
  entries: Entry[];
  hardState: HardState;
  confState: ConfState;
}

/**
 * The log every founding member of a new cluster starts with (as etcd's Bootstrap does):
 * one committed ConfChangeV2 entry adding each member, at indexes 1..n of term 1. Writing
 * the membership into the log, rather than only into each member's options, lets a member
 * that joins later learn the whole configuration by replaying the log from the start.
 * Every founding member must bootstrap with the same `voters` and `learners`.
 * Throws InvalidConfigError for an empty, duplicated or invalid id list.
 */
export function bootstrapState(
  voters: readonly NodeId[],
  learners: readonly NodeId[] = [],
): BootstrapState {
  const all = [...voters, ...learners];
  if (voters.length === 0) throw new InvalidConfigError("a cluster needs at least one voter");
  if (new Set(all).size !== all.length) throw new InvalidConfigError("member ids must be distinct");
  for (const id of all) {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new InvalidConfigError(`member ids must be positive safe integers, got ${String(id)}`);
    }
  }
  const entries: Entry[] = all.map((id, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChangeV2,
    data: encodeConfChangeV2({
      transition: ConfChangeTransition.Auto,
      changes: [
        {
          type: i < voters.length ? ConfChangeType.AddNode : ConfChangeType.AddLearnerNode,
          nodeId: id,
        },
      ],
      context: new Uint8Array(0),
    }),
  }));
  return {
    entries,
    hardState: { term: 1, vote: 0, commit: entries.length },
    confState: {
      voters: [...voters].sort((a, b) => a - b),
      learners: [...learners].sort((a, b) => a - b),
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    },
  };
}
