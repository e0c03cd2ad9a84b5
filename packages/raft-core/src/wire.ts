/**
 * Conversion between raft-core's types (numbers) and the generated `@raftkv/proto` types
 * (bigint), for transports and stores: the one place where uint64 values cross over.
 * Every `...FromProto` and `decode...` function rejects a value above 2^53 - 1 or a
 * malformed encoding with WireFormatError instead of losing precision.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as pb from "@raftkv/proto/raft";
import { RaftError } from "./errors.js";
import type {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  SnapshotMetadata,
} from "./types.js";

/** Bytes or a decoded value could not be converted: malformed, or a number beyond 2^53 - 1. */
export class WireFormatError extends RaftError {
  readonly code = "WIRE_FORMAT";
}

function num(v: bigint, field: string): number {
  if (v > 9007199254740991n || v < 0n) {
    throw new WireFormatError(`${field} ${v} does not fit in a safe integer`);
  }
  return Number(v);
}

function nums(vs: readonly bigint[], field: string): number[] {
  const out = new Array<number>(vs.length);
  for (let i = 0; i < vs.length; i++) out[i] = num(vs[i]!, field);
  return out;
}

function big(v: number): bigint {
  return BigInt(v);
}

function enumValue<T extends number>(v: number, max: number, field: string): T {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new WireFormatError(`${field} has unknown value ${v}`);
  }
  return v as T;
}

function decode<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WireFormatError) throw e;
    throw new WireFormatError(`malformed ${what}`, { cause: e });
  }
}

export function entryToProto(e: Entry): pb.Entry {
  return create(pb.EntrySchema, {
    term: big(e.term),
    index: big(e.index),
    type: e.type as number as pb.EntryType,
    data: e.data,
  });
}

export function entryFromProto(p: pb.Entry): Entry {
  return {
    term: num(p.term, "entry.term"),
    index: num(p.index, "entry.index"),
    type: enumValue<EntryType>(p.type, 2, "entry.type"),
    data: p.data,
  };
}

export function hardStateToProto(h: HardState): pb.HardState {
  return create(pb.HardStateSchema, {
    term: big(h.term),
    vote: big(h.vote),
    commit: big(h.commit),
  });
}

export function hardStateFromProto(p: pb.HardState): HardState {
  return {
    term: num(p.term, "hardState.term"),
    vote: num(p.vote, "hardState.vote"),
    commit: num(p.commit, "hardState.commit"),
  };
}

export function confStateToProto(c: ConfState): pb.ConfState {
  return create(pb.ConfStateSchema, {
    voters: c.voters.map(big),
    learners: c.learners.map(big),
    votersOutgoing: c.votersOutgoing.map(big),
    learnersNext: c.learnersNext.map(big),
    autoLeave: c.autoLeave,
  });
}

export function confStateFromProto(p: pb.ConfState | undefined): ConfState {
  if (p === undefined) {
    return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  }
  return {
    voters: nums(p.voters, "confState.voters"),
    learners: nums(p.learners, "confState.learners"),
    votersOutgoing: nums(p.votersOutgoing, "confState.votersOutgoing"),
    learnersNext: nums(p.learnersNext, "confState.learnersNext"),
    autoLeave: p.autoLeave,
  };
}

export function snapshotMetadataToProto(s: SnapshotMetadata): pb.SnapshotMetadata {
  return create(pb.SnapshotMetadataSchema, {
    confState: confStateToProto(s.confState),
    index: big(s.index),
    term: big(s.term),
  });
}

export function snapshotMetadataFromProto(p: pb.SnapshotMetadata): SnapshotMetadata {
  return {
    confState: confStateFromProto(p.confState),
    index: num(p.index, "snapshot.index"),
    term: num(p.term, "snapshot.term"),
  };
}

export function messageToProto(m: Message): pb.Message {
  const p = create(pb.MessageSchema, {
    type: m.type as number as pb.MessageType,
    to: big(m.to),
    from: big(m.from),
    term: big(m.term),
    logTerm: big(m.logTerm),
    index: big(m.index),
    entries: m.entries.map(entryToProto),
    commit: big(m.commit),
    reject: m.reject,
    rejectHint: big(m.rejectHint),
  });
  if (m.snapshot !== undefined) p.snapshot = snapshotMetadataToProto(m.snapshot);
  if (m.context !== undefined) p.context = m.context;
  return p;
}

export function messageFromProto(p: pb.Message): Message {
  const m: Message = {
    type: enumValue<MessageType>(p.type, 13, "message.type"),
    to: num(p.to, "message.to"),
    from: num(p.from, "message.from"),
    term: num(p.term, "message.term"),
    logTerm: num(p.logTerm, "message.logTerm"),
    index: num(p.index, "message.index"),
    entries: p.entries.map(entryFromProto),
    commit: num(p.commit, "message.commit"),
    reject: p.reject,
    rejectHint: num(p.rejectHint, "message.rejectHint"),
  };
  if (p.snapshot !== undefined) m.snapshot = snapshotMetadataFromProto(p.snapshot);
  if (p.context.byteLength > 0) m.context = p.context;
  return m;
}

export function encodeMessage(m: Message): Uint8Array {
  return toBinary(pb.MessageSchema, messageToProto(m));
}

export function decodeMessage(bytes: Uint8Array): Message {
  return decode("message", () => messageFromProto(fromBinary(pb.MessageSchema, bytes)));
}

export function encodeEntry(e: Entry): Uint8Array {
  return toBinary(pb.EntrySchema, entryToProto(e));
}

export function decodeEntry(bytes: Uint8Array): Entry {
  return decode("entry", () => entryFromProto(fromBinary(pb.EntrySchema, bytes)));
}

export function encodeHardState(h: HardState): Uint8Array {
  return toBinary(pb.HardStateSchema, hardStateToProto(h));
}

export function decodeHardState(bytes: Uint8Array): HardState {
  return decode("hard state", () => hardStateFromProto(fromBinary(pb.HardStateSchema, bytes)));
}

export function encodeConfState(c: ConfState): Uint8Array {
  return toBinary(pb.ConfStateSchema, confStateToProto(c));
}

export function decodeConfState(bytes: Uint8Array): ConfState {
  return decode("conf state", () => confStateFromProto(fromBinary(pb.ConfStateSchema, bytes)));
}

export function encodeSnapshotMetadata(s: SnapshotMetadata): Uint8Array {
  return toBinary(pb.SnapshotMetadataSchema, snapshotMetadataToProto(s));
}

export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return decode("snapshot metadata", () =>
    snapshotMetadataFromProto(fromBinary(pb.SnapshotMetadataSchema, bytes)),
  );
}

/** The entry data of an `EntryType.ConfChange` entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return toBinary(
    pb.ConfChangeSchema,
    create(pb.ConfChangeSchema, {
      type: cc.type as number as pb.ConfChangeType,
      nodeId: big(cc.nodeId),
      context: cc.context,
      id: big(cc.id),
    }),
  );
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  return decode("conf change", () => {
    const p = fromBinary(pb.ConfChangeSchema, bytes);
    return {
      type: enumValue<ConfChangeType>(p.type, 3, "confChange.type"),
      nodeId: num(p.nodeId, "confChange.nodeId"),
      context: p.context,
      id: num(p.id, "confChange.id"),
    };
  });
}

/** The entry data of an `EntryType.ConfChangeV2` entry; the leave-joint change encodes as zero bytes. */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  return toBinary(
    pb.ConfChangeV2Schema,
    create(pb.ConfChangeV2Schema, {
      transition: cc.transition as number as pb.ConfChangeTransition,
      changes: cc.changes.map((c) =>
        create(pb.ConfChangeSingleSchema, {
          type: c.type as number as pb.ConfChangeType,
          nodeId: big(c.nodeId),
        }),
      ),
      context: cc.context,
    }),
  );
}

export function decodeConfChangeV2(bytes: Uint8Array): ConfChangeV2 {
  return decode("conf change v2", () => {
    const p = fromBinary(pb.ConfChangeV2Schema, bytes);
    return {
      transition: enumValue<ConfChangeTransition>(p.transition, 2, "confChangeV2.transition"),
      changes: p.changes.map(
        (c): ConfChangeSingle => ({
          type: enumValue<ConfChangeType>(c.type, 3, "confChangeSingle.type"),
          nodeId: num(c.nodeId, "confChangeSingle.nodeId"),
        }),
      ),
      context: p.context,
    };
  });
}
