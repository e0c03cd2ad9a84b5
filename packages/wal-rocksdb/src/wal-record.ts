import { crc32 } from "node:zlib";
import type { Entry, EntryType, HardState, SnapshotMetadata } from "@raftkv/raft-core";
import { MalformedRecordError } from "./binary.js";
import { decodeSnapshotMetadata, encodeSnapshotMetadata } from "./meta-codec.js";

/**
 * Records of the Raft WAL (see raft-wal.ts). A record on disk is
 * `bodyLength u32 | crc32(body) u32 | body | zero padding to a multiple of 8`, integers
 * little-endian. A header of eight zero bytes marks the end of the written part of a
 * segment, as does the end of the file. The body starts with its kind:
 *
 * - `SAVE`: `flags u8` (bit 0: a hard state follows), `[term u64, vote u64, commit u64]`,
 *   then entries to the end of the body, each `index u64 | term u64 | type u8 |
 *   dataLength u32 | data`. Entries at or below the log's last index replace its suffix.
 * - `SNAPSHOT`: `reset u8` (1: the log was replaced by a snapshot from the leader; 0: the
 *   log was compacted up to the snapshot), then the snapshot metadata record.
 */
export const RECORD_HEADER_BYTES = 8;
export const RecordKind = { save: 1, snapshot: 2 } as const;

const ENTRY_FIXED_BYTES = 21;
const HARD_STATE_BYTES = 24;
const TWO_32 = 2 ** 32;

/** What one record says, decoded. */
export type WalRecord =
  | { kind: "save"; hardState: HardState | undefined; entries: Entry[] }
  | { kind: "snapshot"; reset: boolean; snapshot: SnapshotMetadata };

/** Bytes `body` takes on disk with its header and padding. */
export function framedLength(bodyLength: number): number {
  return (RECORD_HEADER_BYTES + bodyLength + 7) & ~7;
}

/** One framed SAVE record; entries must be validated by the caller. */
export function encodeSaveRecord(
  hardState: HardState | undefined,
  entries: readonly Entry[],
): Buffer {
  let body = 2 + (hardState === undefined ? 0 : HARD_STATE_BYTES);
  for (let i = 0; i < entries.length; i++) {
    body += ENTRY_FIXED_BYTES + (entries[i] as Entry).data.length;
  }
  const out = Buffer.allocUnsafe(framedLength(body));
  let p = RECORD_HEADER_BYTES;
  out[p++] = RecordKind.save;
  out[p++] = hardState === undefined ? 0 : 1;
  if (hardState !== undefined) {
    p = writeU64(out, p, hardState.term);
    p = writeU64(out, p, hardState.vote);
    p = writeU64(out, p, hardState.commit);
  }
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    p = writeU64(out, p, e.index);
    p = writeU64(out, p, e.term);
    out[p++] = e.type;
    out.writeUInt32LE(e.data.length, p);
    out.set(e.data, p + 4);
    p += 4 + e.data.length;
  }
  return seal(out, body);
}

/** One framed SNAPSHOT record. */
export function encodeSnapshotRecord(snapshot: SnapshotMetadata, reset: boolean): Buffer {
  const meta = encodeSnapshotMetadata(snapshot);
  const body = 2 + meta.length;
  const out = Buffer.allocUnsafe(framedLength(body));
  out[RECORD_HEADER_BYTES] = RecordKind.snapshot;
  out[RECORD_HEADER_BYTES + 1] = reset ? 1 : 0;
  out.set(meta, RECORD_HEADER_BYTES + 2);
  return seal(out, body);
}

function seal(out: Buffer, body: number): Buffer {
  const end = RECORD_HEADER_BYTES + body;
  out.fill(0, end);
  out.writeUInt32LE(body, 0);
  out.writeUInt32LE(crc32(out.subarray(RECORD_HEADER_BYTES, end)), 4);
  return out;
}

function writeU64(out: Buffer, p: number, value: number): number {
  out.writeUInt32LE(value >>> 0, p);
  out.writeUInt32LE(Math.floor(value / TWO_32), p + 4);
  return p + 8;
}

/** How reading a record at some offset went. */
export type ReadResult =
  | { status: "record"; record: WalRecord; next: number }
  /** Eight zero bytes, or too few bytes left for a header: nothing was written here. */
  | { status: "end" }
  /** A header or body that does not check out; `why` says how. */
  | { status: "bad"; why: string };

/**
 * Reads the record at `offset` of a segment's bytes. Entry data is copied out, so the
 * segment's buffer is not kept alive by the log.
 */
export function readRecord(buf: Buffer, offset: number): ReadResult {
  if (offset + RECORD_HEADER_BYTES > buf.length) return { status: "end" };
  const body = buf.readUInt32LE(offset);
  const crc = buf.readUInt32LE(offset + 4);
  if (body === 0 && crc === 0) return { status: "end" };
  const start = offset + RECORD_HEADER_BYTES;
  if (body === 0 || start + body > buf.length) {
    return { status: "bad", why: `a record length of ${body} bytes runs past the segment's end` };
  }
  const bytes = buf.subarray(start, start + body);
  if (crc32(bytes) !== crc) return { status: "bad", why: "a record fails its checksum" };
  try {
    return { status: "record", record: decodeBody(bytes), next: offset + framedLength(body) };
  } catch (err) {
    return { status: "bad", why: `a record is malformed (${(err as Error).message})` };
  }
}

function decodeBody(b: Buffer): WalRecord {
  if (b[0] === RecordKind.snapshot) {
    if (b.length < 2 || b[1] === undefined || b[1] > 1)
      throw new MalformedRecordError("reset flag");
    return {
      kind: "snapshot",
      reset: b[1] === 1,
      snapshot: decodeSnapshotMetadata(b.subarray(2)),
    };
  }
  if (b[0] !== RecordKind.save) throw new MalformedRecordError(`unknown kind ${b[0]}`);
  const flags = b[1];
  if (flags === undefined || flags > 1) throw new MalformedRecordError("save flags");
  let p = 2;
  let hardState: HardState | undefined;
  if (flags === 1) {
    need(b, p, HARD_STATE_BYTES);
    hardState = { term: readU64(b, p), vote: readU64(b, p + 8), commit: readU64(b, p + 16) };
    p += HARD_STATE_BYTES;
  }
  const entries: Entry[] = [];
  while (p < b.length) {
    need(b, p, ENTRY_FIXED_BYTES);
    const index = readU64(b, p);
    const term = readU64(b, p + 8);
    const type = b[p + 16] as number;
    const length = b.readUInt32LE(p + 17);
    p += ENTRY_FIXED_BYTES;
    need(b, p, length);
    if (type > 2) throw new MalformedRecordError(`entry type ${type}`);
    const prev = entries[entries.length - 1];
    if (index === 0 || (prev !== undefined && index !== prev.index + 1)) {
      throw new MalformedRecordError(`entry index ${index} out of sequence`);
    }
    entries.push({
      index,
      term,
      type: type as EntryType,
      data: new Uint8Array(b.subarray(p, p + length)),
    });
    p += length;
  }
  return { kind: "save", hardState, entries };
}

function need(b: Buffer, p: number, n: number): void {
  if (p + n > b.length) throw new MalformedRecordError("truncated");
}

function readU64(b: Buffer, p: number): number {
  const hi = b.readUInt32LE(p + 4);
  if (hi > 0x1fffff) throw new MalformedRecordError("a 64-bit field beyond 2^53 - 1");
  return hi * TWO_32 + b.readUInt32LE(p);
}
