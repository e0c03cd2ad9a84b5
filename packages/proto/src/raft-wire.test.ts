import type { DescMessage } from "@bufbuild/protobuf";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import type protobuf from "protobufjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ConfChangeSchema,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2Schema,
  EntryType,
  HardStateSchema,
  InstallSnapshotRequestSchema,
  InstallSnapshotResponseSchema,
  MessageType,
  RaftService,
  StreamRequestSchema,
  StreamResponseSchema,
} from "./raft.js";
import type { ReferenceObject } from "./testdata/reference-compare.js";
import {
  collectSetFields,
  diffWithReference,
  reachableFields,
  toReferenceObject,
} from "./testdata/reference-compare.js";
import { loadRaftReferenceRoot } from "./testdata/reference-root.js";

// protobufjs reading proto/raftkv/raft/v1/raft.proto is the independent codec: it shares
// the source file with protobuf-es, but neither its parser nor its encoder.
let root: protobuf.Root;
beforeAll(() => {
  root = loadRaftReferenceRoot();
});

const maxUint64 = 2n ** 64n - 1n;
const bytes = (text: string) => new TextEncoder().encode(text);

const confState = {
  voters: [1n, 2n, 3n],
  learners: [4n],
  votersOutgoing: [1n, 2n, maxUint64],
  learnersNext: [5n],
  autoLeave: true,
};
const snapshotMessage = {
  type: MessageType.SNAPSHOT,
  to: 4n,
  from: 1n,
  term: 8n,
  snapshot: { confState, index: 2n ** 40n, term: 7n },
};
const messages = [
  {
    type: MessageType.APPEND,
    to: 2n,
    from: 1n,
    term: 8n,
    logTerm: 7n,
    index: 41n,
    commit: 40n,
    entries: [
      { term: 8n, index: 42n, type: EntryType.NORMAL, data: bytes("put a=1") },
      { term: 8n, index: 43n, type: EntryType.CONF_CHANGE, data: Uint8Array.of(8, 2, 16, 5) },
      {
        term: maxUint64,
        index: maxUint64,
        type: EntryType.CONF_CHANGE_V2,
        data: new Uint8Array(0),
      },
    ],
  },
  {
    type: MessageType.APPEND_RESPONSE,
    to: 1n,
    from: 2n,
    term: 8n,
    index: 41n,
    reject: true,
    rejectHint: 30n,
    logTerm: 6n,
  },
  {
    type: MessageType.HEARTBEAT,
    to: 3n,
    from: 1n,
    term: 8n,
    commit: 43n,
    context: Uint8Array.of(0, 1, 2, 255),
  },
  snapshotMessage,
];

interface Fixture {
  name: string;
  desc: DescMessage;
  message: object;
}

function fixture<D extends DescMessage>(
  name: string,
  desc: D,
  init: Parameters<typeof create<D>>[1],
) {
  return { name, desc, message: create(desc, init) } satisfies Fixture;
}

// Every field of every message these reach is set to a non-default value at least once
// (checked below): a default value is not on the wire, so it would prove nothing.
const fixtures: Fixture[] = [
  fixture(
    "a batch of append, rejected append response, heartbeat and snapshot messages",
    StreamRequestSchema,
    {
      batch: { clusterId: 0xcafef00dn, from: 1n, to: 2n, messages },
    },
  ),
  fixture("a stream acknowledgement", StreamResponseSchema, { batchesReceived: 12n }),
  fixture("a snapshot transfer header", InstallSnapshotRequestSchema, {
    chunk: {
      case: "header",
      value: {
        clusterId: 9n,
        from: 1n,
        to: 4n,
        message: snapshotMessage,
        totalBytes: 2n ** 34n,
        offset: 4096n,
      },
    },
  }),
  fixture("a probe for where to resume a broken snapshot transfer", InstallSnapshotRequestSchema, {
    chunk: {
      case: "header",
      value: { clusterId: 9n, from: 1n, to: 4n, message: snapshotMessage, probe: true },
    },
  }),
  fixture("a snapshot data chunk", InstallSnapshotRequestSchema, {
    chunk: { case: "data", value: Uint8Array.from({ length: 300 }, (_, i) => i % 256) },
  }),
  fixture("a snapshot checksum", InstallSnapshotRequestSchema, {
    chunk: { case: "checksum", value: 0xffffffff },
  }),
  fixture("a snapshot transfer response", InstallSnapshotResponseSchema, {
    receivedBytes: 8192n,
    term: 9n,
  }),
  fixture("a hard state", HardStateSchema, { term: 8n, vote: 3n, commit: maxUint64 }),
  fixture("a single-member configuration change", ConfChangeSchema, {
    type: ConfChangeType.UPDATE_NODE,
    nodeId: 5n,
    context: bytes('{"name":"n5","peerURLs":["http://n5:2380"]}'),
    id: 77n,
  }),
  fixture("a joint configuration change", ConfChangeV2Schema, {
    transition: ConfChangeTransition.JOINT_EXPLICIT,
    changes: [
      { type: ConfChangeType.ADD_LEARNER_NODE, nodeId: 6n },
      { type: ConfChangeType.REMOVE_NODE, nodeId: 3n },
    ],
    context: bytes("ctx"),
  }),
];

function referenceType(desc: DescMessage): protobuf.Type {
  return root.lookupType(desc.typeName);
}

describe("raft peer protocol wire format", () => {
  it("fixtures set every field of every message they reach, so no field goes unchecked", () => {
    const reachable = new Set<string>();
    const set = new Set<string>();
    for (const f of fixtures) {
      reachableFields(f.desc, reachable);
      collectSetFields(f.desc, f.message, set);
    }
    expect([...reachable].filter((name) => !set.has(name))).toEqual([]);
  });

  it.each(fixtures)("$name round-trips through an independent decoder", (f) => {
    const type = referenceType(f.desc);
    const decoded = type.toObject(type.decode(toBinary(f.desc, f.message as never)), {
      longs: String,
      defaults: true,
      oneofs: true,
    }) as ReferenceObject;
    expect(diffWithReference(f.desc, f.message, decoded)).toEqual([]);
  });

  it.each(fixtures)("$name encoded by an independent encoder decodes to the same message", (f) => {
    const type = referenceType(f.desc);
    const wire = type.encode(type.fromObject(toReferenceObject(f.desc, f.message))).finish();
    expect(equals(f.desc, fromBinary(f.desc, wire), f.message as never)).toBe(true);
  });

  it("serves the peer service at /raftkv.raft.v1.RaftService/{Stream,InstallSnapshot}", () => {
    expect(
      RaftService.methods.map((m) => `/${RaftService.typeName}/${m.name} ${m.methodKind}`),
    ).toEqual([
      "/raftkv.raft.v1.RaftService/Stream bidi_streaming",
      "/raftkv.raft.v1.RaftService/InstallSnapshot client_streaming",
    ]);
  });
});

/** The members of a generated TS enum as PascalCase name → number (APPEND_RESPONSE → AppendResponse). */
function pascalTable(tsEnum: Record<string, string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(tsEnum)) {
    if (typeof value !== "number") continue;
    const pascal = name
      .toLowerCase()
      .split("_")
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join("");
    out[pascal] = value;
  }
  return out;
}

describe("raft peer protocol enum values", () => {
  // The same literal tables as raft-core's `MessageType` and `EntryType`
  // (packages/raft-core/src/types.ts), which raft-core's own tests pin: if either side
  // renumbers a value, one of the two tests fails.
  it("MessageType has raft-core's numbers, and 0 only as UNSPECIFIED", () => {
    expect(pascalTable(MessageType)).toEqual({
      Unspecified: 0,
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
    });
  });

  it("EntryType has raft-core's numbers", () => {
    expect(pascalTable(EntryType)).toEqual({ Normal: 0, ConfChange: 1, ConfChangeV2: 2 });
  });

  it("ConfChangeType and ConfChangeTransition have the documented numbers", () => {
    expect(pascalTable(ConfChangeType)).toEqual({
      AddNode: 0,
      RemoveNode: 1,
      UpdateNode: 2,
      AddLearnerNode: 3,
    });
    expect(pascalTable(ConfChangeTransition)).toEqual({
      Auto: 0,
      JointImplicit: 1,
      JointExplicit: 2,
    });
  });
});
