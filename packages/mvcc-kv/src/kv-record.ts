import { CorruptStateError } from "./errors.js";
import { allocPooled } from "./key-bytes.js";

/**
 * One version of a key as mvcc-kv keeps it: etcd's `mvccpb.KeyValue` with revisions as
 * JavaScript numbers (exact to 2^53) and the lease as a bigint (an int64 on the wire).
 * Records are immutable once written; their arrays own their memory.
 */
export interface KvRecord {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
}

const KIND_PUT = 0;
const KIND_TOMBSTONE = 1;

/**
 * The stored form of a revision: one kind byte (0 put, 1 tombstone) followed by an
 * `mvccpb.KeyValue` in protobuf wire format (a tombstone carries only its key, as in
 * etcd). Encoded by hand: it is on the path of every put, and a generic encoder costs
 * several times more.
 */
export function encodeRecord(record: KvRecord): Uint8Array {
  return createRecord(
    record.key,
    record.value,
    record.createRevision,
    record.modRevision,
    record.version,
    record.lease,
  ).bytes;
}

/**
 * Encodes a new version and returns it with its record, whose key and value are views
 * into the encoding: one allocation per put, shared by the batch, the overlay and the
 * cache (and, in memory, the backend).
 */
export function createRecord(
  key: Uint8Array,
  value: Uint8Array,
  createRevision: number,
  modRevision: number,
  version: number,
  lease: bigint,
): { bytes: Uint8Array; record: KvRecord } {
  const leaseBits = lease === 0n ? 0n : BigInt.asUintN(64, lease);
  const size =
    1 +
    bytesFieldSize(key.length) +
    varintFieldSize(createRevision) +
    varintFieldSize(modRevision) +
    varintFieldSize(version) +
    bytesFieldSize(value.length) +
    (leaseBits === 0n ? 0 : 1 + uint64Size(leaseBits));
  const out = allocPooled(size);
  out[0] = KIND_PUT;
  let pos = writeBytesField(out, 1, 0x0a, key);
  const keyEnd = pos;
  pos = writeVarintField(out, pos, 0x10, createRevision);
  pos = writeVarintField(out, pos, 0x18, modRevision);
  pos = writeVarintField(out, pos, 0x20, version);
  pos = writeBytesField(out, pos, 0x2a, value);
  const valueEnd = pos;
  if (leaseBits !== 0n) {
    out[pos++] = 0x30;
    pos = writeUint64(out, pos, leaseBits);
  }
  const record: KvRecord = {
    key: out.subarray(keyEnd - key.length, keyEnd),
    value: out.subarray(valueEnd - value.length, valueEnd),
    createRevision,
    modRevision,
    version,
    lease,
  };
  return { bytes: out, record };
}

/** Bytes of `n` (a non-negative safe integer) as a protobuf varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Bytes of `n` (an unsigned 64-bit value) as a protobuf varint. */
export function uint64Size(n: bigint): number {
  if (n <= 0x7fn) return 1;
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return varintSize(Number(n));
  let size = 1;
  while (n > 0x7fn) {
    n >>= 7n;
    size++;
  }
  return size;
}

function bytesFieldSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

function varintFieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

/** The stored form of a deletion of `key`. */
export function encodeTombstone(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + 1 + 10 + key.length);
  out[0] = KIND_TOMBSTONE;
  const end = writeBytesField(out, 1, 0x0a, key);
  return out.subarray(0, end);
}

/** A decoded stored revision: a put's record, or the key of a tombstone. */
export type DecodedRecord =
  | { tombstone: false; record: KvRecord }
  | { tombstone: true; key: Uint8Array };

/**
 * Decodes what `encodeRecord` or `encodeTombstone` wrote; the arrays in the result are
 * views into `bytes`, which must therefore never change. Throws `CorruptStateError` on
 * anything else.
 */
export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  const kind = bytes[0];
  if (kind !== KIND_PUT && kind !== KIND_TOMBSTONE) {
    throw new CorruptStateError(`stored revision has unknown kind byte ${String(kind)}`);
  }
  const record: KvRecord = {
    key: EMPTY,
    value: EMPTY,
    createRevision: 0,
    modRevision: 0,
    version: 0,
    lease: 0n,
  };
  let pos = 1;
  while (pos < bytes.length) {
    const tag = bytes[pos++]!;
    switch (tag) {
      case 0x0a:
      case 0x2a: {
        const [length, next] = readVarint(bytes, pos);
        if (next + length > bytes.length) throw truncated();
        const field = bytes.subarray(next, next + length);
        if (tag === 0x0a) record.key = field;
        else record.value = field;
        pos = next + length;
        break;
      }
      case 0x10:
      case 0x18:
      case 0x20: {
        const [n, next] = readVarint(bytes, pos);
        if (tag === 0x10) record.createRevision = n;
        else if (tag === 0x18) record.modRevision = n;
        else record.version = n;
        pos = next;
        break;
      }
      case 0x30: {
        const [n, next] = readUint64(bytes, pos);
        record.lease = BigInt.asIntN(64, n);
        pos = next;
        break;
      }
      default:
        throw new CorruptStateError(`stored revision has unexpected protobuf tag ${tag}`);
    }
  }
  return kind === KIND_TOMBSTONE
    ? { tombstone: true, key: record.key }
    : { tombstone: false, record };
}

const EMPTY = new Uint8Array(0);

function truncated(): CorruptStateError {
  return new CorruptStateError("stored revision is truncated");
}

function writeBytesField(out: Uint8Array, pos: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return pos;
  out[pos++] = tag;
  pos = writeVarint(out, pos, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

function writeVarintField(out: Uint8Array, pos: number, tag: number, n: number): number {
  if (n === 0) return pos;
  out[pos++] = tag;
  return writeVarint(out, pos, n);
}

/** Writes a non-negative safe integer as a protobuf varint. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

function writeUint64(out: Uint8Array, pos: number, n: bigint): number {
  while (n > 0x7fn) {
    out[pos++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  out[pos++] = Number(n);
  return pos;
}

/** Reads a varint that must fit a safe integer; returns [value, next position]. */
export function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= bytes.length) throw truncated();
    const b = bytes[pos++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) return [n, pos];
    scale *= 0x80;
  }
  throw new CorruptStateError("stored varint is longer than 53 bits");
}

function readUint64(bytes: Uint8Array, pos: number): [bigint, number] {
  let n = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw truncated();
    const b = bytes[pos++]!;
    n |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [BigInt.asUintN(64, n), pos];
    shift += 7n;
  }
  throw new CorruptStateError("stored varint is longer than 64 bits");
}
