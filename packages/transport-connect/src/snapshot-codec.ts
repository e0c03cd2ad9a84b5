import type { Message, NodeId } from "@raftkv/raft-core";
import { MalformedMessageError } from "./errors.js";
import { FRAME_PREFIX_BYTES, writeFramePrefix } from "./grpc-frame.js";
import { messageSize, readMessage, writeMessage } from "./message-codec.js";
import { expectWireType, WireReader, WireType } from "./wire-reader.js";
import { bigVarintSize, lengthDelimitedSize, varintSize, WireWriter } from "./wire-writer.js";

/*
 * Hand-written codec for InstallSnapshotRequest/InstallSnapshotResponse of
 * proto/raftkv/raft/v1/raft.proto. Data chunks are framed without copying the chunk:
 * the sender writes a small head (prefix, tag, length) and then the chunk itself.
 */

/** raftkv.raft.v1.SnapshotHeader with raft-core's types. */
export interface SnapshotHeader {
  clusterId: bigint;
  from: NodeId;
  to: NodeId;
  /** The MessageType.Snapshot message the data belongs to. */
  message: Message;
  /** Total bytes of the data; 0 when the sender does not know it in advance. */
  totalBytes: number;
  /** Where the data of this call starts within the snapshot. */
  offset: number;
  /** Ask only how many bytes the receiver holds; no data follows. */
  probe: boolean;
}

/** One decoded InstallSnapshotRequest: exactly one of the oneof's cases. */
export type SnapshotChunk =
  | { kind: "header"; header: SnapshotHeader }
  | { kind: "data"; data: Uint8Array }
  | { kind: "checksum"; crc32c: number };

function uintFieldSize(value: number): number {
  return value === 0 ? 0 : 1 + varintSize(value);
}

function writeUintField(w: WireWriter, tag: number, value: number): void {
  if (value === 0) return;
  w.byte(tag);
  w.varint(value);
}

/** A gRPC frame holding InstallSnapshotRequest{header}. */
export function encodeSnapshotHeaderFrame(header: SnapshotHeader): Buffer {
  const msgSize = messageSize(header.message);
  const headerSize =
    (header.clusterId === 0n ? 0 : 1 + bigVarintSize(header.clusterId)) +
    uintFieldSize(header.from) +
    uintFieldSize(header.to) +
    1 +
    lengthDelimitedSize(msgSize) +
    uintFieldSize(header.totalBytes) +
    uintFieldSize(header.offset) +
    (header.probe ? 2 : 0);
  const requestSize = 1 + lengthDelimitedSize(headerSize);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + requestSize);
  writeFramePrefix(frame, 0, requestSize);
  const w = new WireWriter(frame, FRAME_PREFIX_BYTES);
  w.byte(0x0a);
  w.varint(headerSize);
  if (header.clusterId !== 0n) {
    w.byte(0x08);
    w.bigVarint(header.clusterId);
  }
  writeUintField(w, 0x10, header.from);
  writeUintField(w, 0x18, header.to);
  w.byte(0x22);
  w.varint(msgSize);
  writeMessage(w, header.message);
  writeUintField(w, 0x28, header.totalBytes);
  writeUintField(w, 0x30, header.offset);
  if (header.probe) {
    w.byte(0x38);
    w.byte(1);
  }
  return frame;
}

/**
 * The bytes that precede a `length`-byte data chunk in its frame
 * (InstallSnapshotRequest{data}); write them, then the chunk itself.
 */
export function encodeSnapshotDataHead(length: number): Buffer {
  const requestSize = 1 + lengthDelimitedSize(length);
  const head = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + 1 + varintSize(length));
  writeFramePrefix(head, 0, requestSize);
  const w = new WireWriter(head, FRAME_PREFIX_BYTES);
  w.byte(0x12);
  w.varint(length);
  return head;
}

/** A gRPC frame holding InstallSnapshotRequest{checksum}. */
export function encodeSnapshotChecksumFrame(crc32c: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + 5);
  writeFramePrefix(frame, 0, 5);
  const w = new WireWriter(frame, FRAME_PREFIX_BYTES);
  w.byte(0x1d);
  w.fixed32(crc32c);
  return frame;
}

/** Decodes one InstallSnapshotRequest; data is a view into `bytes`. */
export function decodeSnapshotRequest(bytes: Uint8Array): SnapshotChunk {
  const r = new WireReader(bytes);
  let chunk: SnapshotChunk | undefined;
  while (!r.done) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWireType(wt, WireType.LengthDelimited, "InstallSnapshotRequest", "header");
        chunk = { kind: "header", header: readHeader(r, r.lengthDelimitedEnd()) };
        break;
      case 2:
        expectWireType(wt, WireType.LengthDelimited, "InstallSnapshotRequest", "data");
        chunk = { kind: "data", data: r.bytesView() };
        break;
      case 3:
        expectWireType(wt, WireType.Fixed32, "InstallSnapshotRequest", "checksum");
        chunk = { kind: "checksum", crc32c: r.fixed32() };
        break;
      default:
        r.skip(wt);
    }
  }
  if (chunk === undefined) throw new MalformedMessageError("InstallSnapshotRequest is empty");
  return chunk;
}

function readHeader(r: WireReader, end: number): SnapshotHeader {
  let message: Message | undefined;
  const header = {
    clusterId: 0n,
    from: 0,
    to: 0,
    totalBytes: 0,
    offset: 0,
    probe: false,
  };
  const inner = new WireReader(r.buf, r.pos, end);
  while (!inner.done) {
    const tag = inner.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "cluster_id");
        header.clusterId = inner.bigVarint();
        break;
      case 2:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "from");
        header.from = inner.varint();
        break;
      case 3:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "to");
        header.to = inner.varint();
        break;
      case 4:
        expectWireType(wt, WireType.LengthDelimited, "SnapshotHeader", "message");
        message = readMessage(inner, inner.lengthDelimitedEnd());
        break;
      case 5:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "total_bytes");
        header.totalBytes = inner.varint();
        break;
      case 6:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "offset");
        header.offset = inner.varint();
        break;
      case 7:
        expectWireType(wt, WireType.Varint, "SnapshotHeader", "probe");
        header.probe = inner.bool();
        break;
      default:
        inner.skip(wt);
    }
  }
  r.pos = end;
  if (message === undefined) throw new MalformedMessageError("SnapshotHeader carries no message");
  return { ...header, message };
}

/** A gRPC frame holding InstallSnapshotResponse. */
export function encodeSnapshotResponseFrame(receivedBytes: number, term: number): Buffer {
  const size = uintFieldSize(receivedBytes) + uintFieldSize(term);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + size);
  writeFramePrefix(frame, 0, size);
  const w = new WireWriter(frame, FRAME_PREFIX_BYTES);
  writeUintField(w, 0x08, receivedBytes);
  writeUintField(w, 0x10, term);
  return frame;
}

/** Decodes InstallSnapshotResponse. */
export function decodeSnapshotResponse(bytes: Uint8Array): { receivedBytes: number; term: number } {
  const r = new WireReader(bytes);
  const out = { receivedBytes: 0, term: 0 };
  while (!r.done) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWireType(wt, WireType.Varint, "InstallSnapshotResponse", "received_bytes");
        out.receivedBytes = r.varint();
        break;
      case 2:
        expectWireType(wt, WireType.Varint, "InstallSnapshotResponse", "term");
        out.term = r.varint();
        break;
      default:
        r.skip(wt);
    }
  }
  return out;
}
