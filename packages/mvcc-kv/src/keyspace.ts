import { CorruptStateError } from "./errors.js";

/**
 * The layout of mvcc-kv's data in its backend. The first byte of every key names its
 * part of the keyspace; all are below 0xff so that `[0x00]`–`[0xff]` covers everything.
 *
 * - `0x00 name`: metadata (`META_COMPACTED`: the compacted main revision, `META_RESTORING`:
 *   present only while a snapshot restore is half written);
 * - `0x01 main sub` (8 + 8 bytes, big-endian): one revision, valued by `encodeRecord` or
 *   `encodeTombstone`. Big-endian fixed width makes byte order the revision order, so a
 *   scan from the start replays history in order;
 * - `0x02 seq` (8 bytes, big-endian): one remembered request id and its result, in apply order.
 */
export const PREFIX_META = 0x00;
export const PREFIX_REVISION = 0x01;
export const PREFIX_REQUEST = 0x02;

export const META_COMPACTED = Uint8Array.of(PREFIX_META, 0x63); // "\0c"
export const META_RESTORING = Uint8Array.of(PREFIX_META, 0x72); // "\0r"

/** The first key of the keyspace and the key past its end. */
export const KEYSPACE_START = Uint8Array.of(0x00);
export const KEYSPACE_END = Uint8Array.of(0xff);

/** The backend key of revision (main, sub). */
export function revisionKey(main: number, sub: number): Uint8Array {
  const out = new Uint8Array(17);
  out[0] = PREFIX_REVISION;
  writeUint64BE(out, 1, main);
  writeUint64BE(out, 9, sub);
  return out;
}

/** The first revision key at or after main revision `main`. */
export function revisionKeyLowerBound(main: number): Uint8Array {
  return revisionKey(main, 0);
}

/** Main and sub revision of a key made by `revisionKey`. */
export function parseRevisionKey(key: Uint8Array): { main: number; sub: number } {
  if (key.length !== 17 || key[0] !== PREFIX_REVISION) {
    throw new CorruptStateError("malformed revision key in the backend");
  }
  return { main: readUint64BE(key, 1), sub: readUint64BE(key, 9) };
}

/** The backend key of the `seq`-th remembered request. */
export function requestKey(seq: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = PREFIX_REQUEST;
  writeUint64BE(out, 1, seq);
  return out;
}

export function parseRequestKey(key: Uint8Array): number {
  if (key.length !== 9 || key[0] !== PREFIX_REQUEST) {
    throw new CorruptStateError("malformed request-id key in the backend");
  }
  return readUint64BE(key, 1);
}

/** Writes a non-negative safe integer as 8 big-endian bytes. */
export function writeUint64BE(out: Uint8Array, pos: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  out[pos] = hi >>> 24;
  out[pos + 1] = (hi >>> 16) & 0xff;
  out[pos + 2] = (hi >>> 8) & 0xff;
  out[pos + 3] = hi & 0xff;
  out[pos + 4] = lo >>> 24;
  out[pos + 5] = (lo >>> 16) & 0xff;
  out[pos + 6] = (lo >>> 8) & 0xff;
  out[pos + 7] = lo & 0xff;
}

/** Reads 8 big-endian bytes that must hold a safe integer. */
export function readUint64BE(bytes: Uint8Array, pos: number): number {
  const hi =
    ((bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!) >>>
    0;
  const lo =
    ((bytes[pos + 4]! << 24) |
      (bytes[pos + 5]! << 16) |
      (bytes[pos + 6]! << 8) |
      bytes[pos + 7]!) >>>
    0;
  if (hi >= 0x20_0000) throw new CorruptStateError("stored number exceeds 2^53");
  return hi * 0x1_0000_0000 + lo;
}

/** An 8-byte big-endian encoding of a non-negative safe integer. */
export function uint64BE(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64BE(out, 0, n);
  return out;
}
