import { CorruptStateError } from "./errors.js";

/**
 * The layout of mvcc-kv's data in its backend.
 *
 * The state lives in one of two slots, so that a snapshot restore can be written beside
 * the live state and switched to in one small atomic batch: a crash half way through a
 * restore leaves the old state whole. Slot 0 uses first bytes 0x00–0x0f, slot 1 uses
 * 0x10–0x1f, and `SLOT_POINTER` (0x20) names the live slot (absent: slot 0). Within a
 * slot, relative to its base byte:
 *
 * - `+0x00 name`: metadata (`c`: the compacted main revision, 8 bytes big-endian);
 * - `+0x01 main sub` (8 + 8 bytes, big-endian): one revision, valued by `encodeRecord` or
 *   `encodeTombstone`. Big-endian fixed width makes byte order the revision order, so a
 *   scan from the start replays history in order;
 * - `+0x02 seq` (8 bytes, big-endian): one remembered request id and its result, in apply
 *   order.
 *
 * Snapshot streams carry keys relative to the slot (as slot 0 writes them), so the
 * streams of two members are byte-identical whichever slot each happens to use.
 */
export class Keyspace {
  /** The key that names the live slot. */
  static readonly SLOT_POINTER = Uint8Array.of(0x20);

  /** First byte of every key of this slot. */
  readonly base: number;
  /** The first key of this slot and the key past its end. */
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  /** Where the compacted revision is stored. */
  readonly compactedKey: Uint8Array;

  constructor(readonly slot: 0 | 1) {
    this.base = slot * 0x10;
    this.start = Uint8Array.of(this.base);
    this.end = Uint8Array.of(this.base + 0x10);
    this.compactedKey = Uint8Array.of(this.base + PART_META, 0x63);
  }

  /** The other slot, where a restore is written. */
  other(): Keyspace {
    return new Keyspace(this.slot === 0 ? 1 : 0);
  }

  /** The part of the slot a key belongs to, or undefined for a key outside the slot. */
  part(key: Uint8Array): number | undefined {
    const first = key[0];
    if (first === undefined || first < this.base || first >= this.base + 0x10) return undefined;
    return first - this.base;
  }

  /** The backend key of revision (main, sub). */
  revisionKey(main: number, sub: number): Uint8Array {
    const out = new Uint8Array(17);
    out[0] = this.base + PART_REVISION;
    writeUint64BE(out, 1, main);
    writeUint64BE(out, 9, sub);
    return out;
  }

  /** The first revision key at or after main revision `main`. */
  revisionLowerBound(main: number): Uint8Array {
    return this.revisionKey(main, 0);
  }

  /** Main and sub revision of a key made by `revisionKey`. */
  parseRevisionKey(key: Uint8Array): { main: number; sub: number } {
    if (key.length !== 17 || key[0] !== this.base + PART_REVISION) {
      throw new CorruptStateError("malformed revision key in the backend");
    }
    return { main: readUint64BE(key, 1), sub: readUint64BE(key, 9) };
  }

  /** The backend key of the `seq`-th remembered request. */
  requestKey(seq: number): Uint8Array {
    const out = new Uint8Array(9);
    out[0] = this.base + PART_REQUEST;
    writeUint64BE(out, 1, seq);
    return out;
  }

  parseRequestKey(key: Uint8Array): number {
    if (key.length !== 9 || key[0] !== this.base + PART_REQUEST) {
      throw new CorruptStateError("malformed request-id key in the backend");
    }
    return readUint64BE(key, 1);
  }

  /** A key of this slot as slot 0 writes it (for snapshot streams). */
  toPortable(key: Uint8Array): Uint8Array {
    if (this.base === 0) return key;
    const out = key.slice();
    out[0]! -= this.base;
    return out;
  }

  /** A portable key (as slot 0 writes it) placed in this slot. */
  fromPortable(key: Uint8Array): Uint8Array {
    const first = key[0];
    if (first === undefined || first >= 0x10) {
      throw new CorruptStateError("snapshot holds a key outside the mvcc keyspace");
    }
    if (this.base === 0) return key;
    const out = key.slice();
    out[0] = first + this.base;
    return out;
  }
}

/** Parts of a slot, relative to its base byte. */
export const PART_META = 0x00;
export const PART_REVISION = 0x01;
export const PART_REQUEST = 0x02;

/** The live slot named by the stored pointer value (absent: slot 0). */
export function slotFromPointer(value: Uint8Array | undefined): Keyspace {
  if (value === undefined) return new Keyspace(0);
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 1)) {
    throw new CorruptStateError("malformed slot pointer in the backend");
  }
  return new Keyspace(value[0] as 0 | 1);
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
