import { EntryType, type Message, MessageType, type NodeId } from "@raftkv/raft-core";

/** An append carrying `count` entries of `entryBytes` bytes each. */
export function append(
  from: NodeId,
  to: NodeId,
  index: number,
  count = 1,
  entryBytes = 256,
): Message {
  return {
    type: MessageType.Append,
    from,
    to,
    term: 1,
    logTerm: 1,
    index,
    commit: index,
    entries: Array.from({ length: count }, (_, i) => ({
      term: 1,
      index: index + i + 1,
      type: EntryType.Normal,
      data: new Uint8Array(entryBytes).fill((index + i) & 0xff),
    })),
    reject: false,
    rejectHint: 0,
  };
}

export function heartbeat(from: NodeId, to: NodeId, commit = 0): Message {
  return {
    type: MessageType.Heartbeat,
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    commit,
    entries: [],
    reject: false,
    rejectHint: 0,
  };
}

export function snapshotMessage(from: NodeId, to: NodeId, index: number, term = 1): Message {
  return {
    type: MessageType.Snapshot,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    commit: 0,
    entries: [],
    snapshot: {
      index,
      term,
      confState: {
        voters: [1, 2, 3],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
    reject: false,
    rejectHint: 0,
  };
}
