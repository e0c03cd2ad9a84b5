import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  InstallSnapshotRequestSchema,
  InstallSnapshotResponseSchema,
  MessageType as WireMessageType,
} from "@raftkv/proto/raft";
import { describe, expect, it } from "vitest";
import { MalformedMessageError } from "./errors.js";
import { FRAME_PREFIX_BYTES } from "./grpc-frame.js";
import {
  decodeSnapshotRequest,
  decodeSnapshotResponse,
  encodeSnapshotChecksumFrame,
  encodeSnapshotDataHead,
  encodeSnapshotHeaderFrame,
  encodeSnapshotResponseFrame,
} from "./snapshot-codec.js";
import { snapshotMessage } from "./test-support/messages.js";

const body = (frame: Buffer) => frame.subarray(FRAME_PREFIX_BYTES);

describe("snapshot codec", () => {
  it("encodes the header as protobuf-es reads it, and reads it back", () => {
    const header = {
      clusterId: 2n ** 63n + 5n,
      from: 1,
      to: 2,
      message: snapshotMessage(1, 2, 99, 4),
      totalBytes: 12345,
      offset: 678,
      probe: true,
    };
    const bytes = body(encodeSnapshotHeaderFrame(header));
    const wire = fromBinary(InstallSnapshotRequestSchema, bytes);
    expect(wire.chunk.case).toBe("header");
    expect(wire.chunk.value).toMatchObject({
      clusterId: header.clusterId,
      from: 1n,
      to: 2n,
      totalBytes: 12345n,
      offset: 678n,
      probe: true,
      message: { type: WireMessageType.SNAPSHOT, snapshot: { index: 99n, term: 4n } },
    });
    expect(decodeSnapshotRequest(bytes)).toEqual({ kind: "header", header });
  });

  it("frames data without copying it, as protobuf-es encodes the data case", () => {
    const data = Buffer.from("some snapshot bytes");
    const frame = Buffer.concat([encodeSnapshotDataHead(data.length), data]);
    expect(frame.readUInt32BE(1)).toBe(frame.length - FRAME_PREFIX_BYTES);
    const expected = toBinary(
      InstallSnapshotRequestSchema,
      create(InstallSnapshotRequestSchema, { chunk: { case: "data", value: data } }),
    );
    expect(new Uint8Array(body(frame))).toEqual(expected);
    const decoded = decodeSnapshotRequest(body(frame));
    expect(decoded.kind === "data" && Buffer.from(decoded.data).equals(data)).toBe(true);
  });

  it("encodes the checksum as a fixed32, as protobuf-es does", () => {
    const expected = toBinary(
      InstallSnapshotRequestSchema,
      create(InstallSnapshotRequestSchema, { chunk: { case: "checksum", value: 0xdeadbeef } }),
    );
    expect(new Uint8Array(body(encodeSnapshotChecksumFrame(0xdeadbeef)))).toEqual(expected);
    expect(decodeSnapshotRequest(expected)).toEqual({ kind: "checksum", crc32c: 0xdeadbeef });
  });

  it("encodes the response as protobuf-es does", () => {
    const bytes = body(encodeSnapshotResponseFrame(50 * 1024 * 1024, 7));
    expect(fromBinary(InstallSnapshotResponseSchema, bytes)).toMatchObject({
      receivedBytes: 50n * 1024n * 1024n,
      term: 7n,
    });
    expect(decodeSnapshotResponse(bytes)).toEqual({ receivedBytes: 50 * 1024 * 1024, term: 7 });
  });

  it("refuses an empty request and a header without a message", () => {
    expect(() => decodeSnapshotRequest(new Uint8Array(0))).toThrow(MalformedMessageError);
    expect(() => decodeSnapshotRequest(Uint8Array.from([0x0a, 0x02, 0x10, 0x01]))).toThrow(
      /no message/,
    );
  });
});
