import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  StreamRequestSchema,
  StreamResponseSchema,
  type Message as WireMessage,
} from "@raftkv/proto/raft";
import { EntryType, type Message, MessageType } from "@raftkv/raft-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MalformedMessageError } from "./errors.js";
import { FRAME_PREFIX_BYTES } from "./grpc-frame.js";
import {
  decodeMessage,
  decodeStreamRequest,
  decodeStreamResponse,
  encodeBatchAddress,
  encodeMessage,
  encodeStreamRequestFrame,
  encodeStreamResponseFrame,
  messageSize,
} from "./message-codec.js";

const id = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const small = fc.oneof(fc.integer({ min: 0, max: 300 }), id);
const ids = fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 5 });

const entry = fc.record({
  term: small,
  index: small,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange, EntryType.ConfChangeV2),
  data: fc.uint8Array({ maxLength: 300 }),
});

const message: fc.Arbitrary<Message> = fc.record({
  type: fc.integer({ min: 1, max: 13 }) as fc.Arbitrary<MessageType>,
  to: small,
  from: small,
  term: small,
  logTerm: small,
  index: small,
  entries: fc.array(entry, { maxLength: 4 }),
  commit: small,
  snapshot: fc.option(
    fc.record({
      confState: fc.record({
        voters: ids,
        learners: ids,
        votersOutgoing: ids,
        learnersNext: ids,
        autoLeave: fc.boolean(),
      }),
      index: small,
      term: small,
    }),
    { nil: undefined },
  ),
  reject: fc.boolean(),
  rejectHint: small,
  context: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
});

/** The same message as protobuf-es builds it from the generated schema. */
function toWire(m: Message): Omit<WireMessage, "$typeName"> {
  return {
    type: m.type,
    to: BigInt(m.to),
    from: BigInt(m.from),
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map((e) => ({
      $typeName: "raftkv.raft.v1.Entry",
      term: BigInt(e.term),
      index: BigInt(e.index),
      type: e.type,
      data: e.data,
    })),
    commit: BigInt(m.commit),
    snapshot:
      m.snapshot === undefined
        ? undefined
        : {
            $typeName: "raftkv.raft.v1.SnapshotMetadata",
            confState: {
              $typeName: "raftkv.raft.v1.ConfState",
              voters: m.snapshot.confState.voters.map(BigInt),
              learners: m.snapshot.confState.learners.map(BigInt),
              votersOutgoing: m.snapshot.confState.votersOutgoing.map(BigInt),
              learnersNext: m.snapshot.confState.learnersNext.map(BigInt),
              autoLeave: m.snapshot.confState.autoLeave,
            },
            index: BigInt(m.snapshot.index),
            term: BigInt(m.snapshot.term),
          },
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context ?? new Uint8Array(0),
  };
}

function streamRequestBytes(clusterId: bigint, from: number, to: number, messages: Message[]) {
  return toBinary(
    StreamRequestSchema,
    create(StreamRequestSchema, {
      batch: { clusterId, from: BigInt(from), to: BigInt(to), messages: messages.map(toWire) },
    }),
  );
}

function ourFrame(clusterId: bigint, from: number, to: number, messages: Message[]): Buffer {
  return encodeStreamRequestFrame(
    encodeBatchAddress({ clusterId, from, to }),
    messages,
    messages.map(messageSize),
  );
}

describe("message codec", () => {
  it("encodes a StreamRequest byte for byte as protobuf-es does", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        id,
        id,
        fc.array(message, { maxLength: 5 }),
        (c, f, t, ms) => {
          const frame = ourFrame(c, f, t, ms);
          expect(frame.readUInt32BE(1)).toBe(frame.length - FRAME_PREFIX_BYTES);
          expect(new Uint8Array(frame.subarray(FRAME_PREFIX_BYTES))).toEqual(
            streamRequestBytes(c, f, t, ms),
          );
        },
      ),
    );
  });

  it("decodes what protobuf-es encodes back to the same messages", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        id,
        id,
        fc.array(message, { maxLength: 5 }),
        (c, f, t, ms) => {
          const batch = decodeStreamRequest(streamRequestBytes(c, f, t, ms));
          expect(batch.clusterId).toBe(c);
          expect(batch.from).toBe(f);
          expect(batch.to).toBe(t);
          expect(batch.messages).toEqual(
            ms.map((m) => ({ ...m, context: m.context?.length ? m.context : undefined })),
          );
        },
      ),
    );
  });

  it("round-trips a single message", () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual({
          ...m,
          context: m.context?.length ? m.context : undefined,
        });
      }),
    );
  });

  it("accepts unpacked repeated ids and skips unknown fields, as proto3 readers must", () => {
    // Message{type: 9, snapshot: {conf_state: {voters: 1, voters: 2 (unpacked)}}, field 99: varint 5}
    const bytes = Uint8Array.from([
      0x08, 0x09, 0x4a, 0x06, 0x0a, 0x04, 0x08, 0x01, 0x08, 0x02, 0x98, 0x06, 0x05,
    ]);
    const m = decodeMessage(bytes);
    expect(m.type).toBe(MessageType.Snapshot);
    expect(m.snapshot?.confState.voters).toEqual([1, 2]);
  });

  it("refuses ids beyond 2^53 with MalformedMessageError", () => {
    const bytes = toBinary(
      StreamRequestSchema,
      create(StreamRequestSchema, {
        batch: { clusterId: 1n, from: 2n ** 60n, to: 1n, messages: [] },
      }),
    );
    expect(() => decodeStreamRequest(bytes)).toThrow(MalformedMessageError);
  });

  it("refuses message types that members never send", () => {
    expect(() => decodeMessage(Uint8Array.from([0x08, 0x00]))).toThrow(/message type 0/);
    expect(() => decodeMessage(Uint8Array.from([0x08, 0x0e]))).toThrow(/message type 14/);
  });

  it("refuses truncated and garbage input with MalformedMessageError, never anything else", () => {
    const valid = ourFrame(7n, 1, 2, [
      {
        type: MessageType.Append,
        to: 2,
        from: 1,
        term: 3,
        logTerm: 3,
        index: 10,
        entries: [{ term: 3, index: 11, type: EntryType.Normal, data: new Uint8Array(40) }],
        commit: 9,
        reject: false,
        rejectHint: 0,
      },
    ]).subarray(FRAME_PREFIX_BYTES);
    for (let cut = 1; cut < valid.length; cut++) {
      try {
        decodeStreamRequest(valid.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedMessageError);
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        try {
          decodeStreamRequest(garbage);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedMessageError);
        }
      }),
    );
  });

  it("encodes StreamResponse as protobuf-es does", () => {
    for (const n of [0, 1, 127, 128, 2 ** 31, 2 ** 40]) {
      const frame = encodeStreamResponseFrame(n);
      const body = frame.subarray(FRAME_PREFIX_BYTES);
      expect(fromBinary(StreamResponseSchema, body).batchesReceived).toBe(BigInt(n));
      expect(decodeStreamResponse(body)).toBe(n);
    }
  });
});

describe("codec coverage of raft.proto", () => {
  it("knows every field of every message it encodes, so a field added to the proto fails here first", async () => {
    const pb = await import("@raftkv/proto/raft");
    const fields = (schema: { fields: readonly { number: number; name: string }[] }) =>
      schema.fields.map((f) => `${f.number}:${f.name}`);
    expect(fields(pb.MessageSchema)).toEqual([
      "1:type",
      "2:to",
      "3:from",
      "4:term",
      "5:log_term",
      "6:index",
      "7:entries",
      "8:commit",
      "9:snapshot",
      "10:reject",
      "11:reject_hint",
      "12:context",
    ]);
    expect(fields(pb.EntrySchema)).toEqual(["1:term", "2:index", "3:type", "4:data"]);
    expect(fields(pb.SnapshotMetadataSchema)).toEqual(["1:conf_state", "2:index", "3:term"]);
    expect(fields(pb.ConfStateSchema)).toEqual([
      "1:voters",
      "2:learners",
      "3:voters_outgoing",
      "4:learners_next",
      "5:auto_leave",
    ]);
    expect(fields(pb.MessageBatchSchema)).toEqual(["1:cluster_id", "2:from", "3:to", "4:messages"]);
    expect(fields(pb.StreamRequestSchema)).toEqual(["1:batch"]);
    expect(fields(pb.StreamResponseSchema)).toEqual(["1:batches_received"]);
    expect(fields(pb.SnapshotHeaderSchema)).toEqual([
      "1:cluster_id",
      "2:from",
      "3:to",
      "4:message",
      "5:total_bytes",
      "6:offset",
      "7:probe",
    ]);
    expect(fields(pb.InstallSnapshotRequestSchema)).toEqual(["1:header", "2:data", "3:checksum"]);
    expect(fields(pb.InstallSnapshotResponseSchema)).toEqual(["1:received_bytes", "2:term"]);
  });
});
