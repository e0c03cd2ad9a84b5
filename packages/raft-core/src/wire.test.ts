import {
  ConfChangeType as PbConfChangeType,
  EntryType as PbEntryType,
  MessageType as PbMessageType,
  ConfChangeTransition as PbTransition,
} from "@raftkv/proto/raft";
import { describe, expect, it } from "vitest";
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  type Message,
  MessageType,
} from "./types.js";
import {
  decodeConfChange,
  decodeConfChangeV2,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfChangeV2,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshotMetadata,
  messageFromProto,
  messageToProto,
  WireFormatError,
} from "./wire.js";

const full: Message = {
  type: MessageType.Append,
  to: 2,
  from: 1,
  term: 7,
  logTerm: 6,
  index: 41,
  entries: [
    { index: 42, term: 7, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
    { index: 43, term: 7, type: EntryType.ConfChangeV2, data: new Uint8Array() },
  ],
  commit: 40,
  reject: false,
  rejectHint: 0,
  context: new Uint8Array([9]),
  snapshot: {
    index: 30,
    term: 5,
    confState: {
      voters: [1, 2, 3],
      learners: [4],
      votersOutgoing: [1, 2],
      learnersNext: [5],
      autoLeave: true,
    },
  },
};

describe("wire conversions", () => {
  it("round-trips a message with entries, snapshot metadata and context through bytes", () => {
    expect(decodeMessage(encodeMessage(full))).toEqual(full);
    expect(messageFromProto(messageToProto(full))).toEqual(full);
  });

  it("round-trips entries, hard state, snapshot metadata and both conf change forms", () => {
    expect(decodeEntry(encodeEntry(full.entries[0]!))).toEqual(full.entries[0]);
    expect(decodeHardState(encodeHardState({ term: 3, vote: 2, commit: 9 }))).toEqual({
      term: 3,
      vote: 2,
      commit: 9,
    });
    expect(decodeSnapshotMetadata(encodeSnapshotMetadata(full.snapshot!))).toEqual(full.snapshot);
    const cc = {
      type: ConfChangeType.AddLearnerNode,
      nodeId: 9,
      context: new Uint8Array([1]),
      id: 77,
    };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    const v2 = {
      transition: ConfChangeTransition.JointExplicit,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: 4 },
        { type: ConfChangeType.RemoveNode, nodeId: 1 },
      ],
      context: new Uint8Array([5]),
    };
    expect(decodeConfChangeV2(encodeConfChangeV2(v2))).toEqual(v2);
  });

  it("the change that leaves a joint configuration encodes as zero bytes", () => {
    expect(
      encodeConfChangeV2({
        transition: ConfChangeTransition.Auto,
        changes: [],
        context: new Uint8Array(),
      }).byteLength,
    ).toBe(0);
  });

  it("refuses a value beyond 2^53 - 1 instead of rounding it", () => {
    const p = messageToProto(full);
    p.commit = 2n ** 60n;
    expect(() => messageFromProto(p)).toThrow(WireFormatError);
    expect(() => messageFromProto(p)).toThrow(/message.commit/);
  });

  it("refuses malformed bytes with WireFormatError", () => {
    expect(() => decodeMessage(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(WireFormatError);
    expect(() => decodeEntry(new Uint8Array([0x0a]))).toThrow(WireFormatError);
  });

  it("uses the same enum numbers as the generated protocol", () => {
    const table: Array<[string, number, number]> = [
      ["Append", MessageType.Append, PbMessageType.APPEND],
      ["AppendResponse", MessageType.AppendResponse, PbMessageType.APPEND_RESPONSE],
      ["Vote", MessageType.Vote, PbMessageType.VOTE],
      ["VoteResponse", MessageType.VoteResponse, PbMessageType.VOTE_RESPONSE],
      ["PreVote", MessageType.PreVote, PbMessageType.PRE_VOTE],
      ["PreVoteResponse", MessageType.PreVoteResponse, PbMessageType.PRE_VOTE_RESPONSE],
      ["Heartbeat", MessageType.Heartbeat, PbMessageType.HEARTBEAT],
      ["HeartbeatResponse", MessageType.HeartbeatResponse, PbMessageType.HEARTBEAT_RESPONSE],
      ["Snapshot", MessageType.Snapshot, PbMessageType.SNAPSHOT],
      ["ReadIndex", MessageType.ReadIndex, PbMessageType.READ_INDEX],
      ["ReadIndexResponse", MessageType.ReadIndexResponse, PbMessageType.READ_INDEX_RESPONSE],
      ["TimeoutNow", MessageType.TimeoutNow, PbMessageType.TIMEOUT_NOW],
      ["TransferLeader", MessageType.TransferLeader, PbMessageType.TRANSFER_LEADER],
      ["EntryType.Normal", EntryType.Normal, PbEntryType.NORMAL],
      ["EntryType.ConfChange", EntryType.ConfChange, PbEntryType.CONF_CHANGE],
      ["EntryType.ConfChangeV2", EntryType.ConfChangeV2, PbEntryType.CONF_CHANGE_V2],
      ["AddNode", ConfChangeType.AddNode, PbConfChangeType.ADD_NODE],
      ["RemoveNode", ConfChangeType.RemoveNode, PbConfChangeType.REMOVE_NODE],
      ["UpdateNode", ConfChangeType.UpdateNode, PbConfChangeType.UPDATE_NODE],
      ["AddLearnerNode", ConfChangeType.AddLearnerNode, PbConfChangeType.ADD_LEARNER_NODE],
      ["Transition.Auto", ConfChangeTransition.Auto, PbTransition.AUTO],
      ["Transition.JointImplicit", ConfChangeTransition.JointImplicit, PbTransition.JOINT_IMPLICIT],
      ["Transition.JointExplicit", ConfChangeTransition.JointExplicit, PbTransition.JOINT_EXPLICIT],
    ];
    for (const [name, ours, theirs] of table) expect([name, ours]).toEqual([name, theirs]);
  });
});
