/**
 * Fixed-width big-endian integers, so that RocksDB's byte order of encoded keys is the
 * numeric order of the indexes they hold. 64-bit fields carry JavaScript safe integers
 * (up to 2^53 - 1); anything larger on disk is reported as corruption, never rounded.
 */

const TWO_32 = 2 ** 32;

/** Writes `value` (a safe non-negative integer, checked by the caller) as 8 bytes at `offset`. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / TWO_32));
  view.setUint32(offset + 4, value >>> 0);
}

/** Reads 8 bytes at `offset`; returns -1 when the value is beyond 2^53 - 1. */
export function readU64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset);
  if (hi > 0x1fffff) return -1;
  return hi * TWO_32 + view.getUint32(offset + 4);
}

export function isU64(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A growable byte writer for small metadata records. */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.len, value);
    this.len += 1;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, value);
    this.len += 4;
    return this;
  }

  u64(value: number): this {
    this.reserve(8);
    writeU64(this.view, this.len, value);
    this.len += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Thrown by ByteReader on a record that ends early or holds an out-of-range number. */
export class MalformedRecordError extends Error {
  readonly code = "MALFORMED_RECORD";
}

/** Reads what ByteWriter wrote; every read is bounds-checked. */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new MalformedRecordError(
        `record ends at byte ${this.buf.length}, needed ${this.pos + n}`,
      );
    }
  }

  u8(): number {
    this.need(1);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = readU64(this.view, this.pos);
    if (v < 0) throw new MalformedRecordError(`64-bit value at byte ${this.pos} exceeds 2^53`);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Throws unless every byte was read: trailing bytes mean a different layout. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new MalformedRecordError(`${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}
