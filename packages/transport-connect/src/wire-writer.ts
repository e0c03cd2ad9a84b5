/**
 * Protobuf wire-format primitives for the hand-written codecs. Values are JS numbers that
 * are non-negative safe integers (raft-core's ids, terms and indexes), so varints are
 * produced without BigInt; the encoders are checked byte for byte against protobuf-es.
 */

const TWO_POW_32 = 2 ** 32;

/** Bytes of `value` as a varint; `value` must be a non-negative safe integer. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 2 ** 35) return 5;
  if (value < 2 ** 42) return 6;
  if (value < 2 ** 49) return 7;
  return 8; // every safe integer is below 2^56
}

/** Bytes of an unsigned 64-bit `value` as a varint. */
export function bigVarintSize(value: bigint): number {
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size++;
  }
  return size;
}

/** Size of a length-delimited field's payload prefix plus payload. */
export function lengthDelimitedSize(payloadBytes: number): number {
  return varintSize(payloadBytes) + payloadBytes;
}

/** A cursor over a pre-sized buffer; the caller computes sizes first, so no bounds checks. */
export class WireWriter {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
  }

  byte(value: number): void {
    this.buf[this.pos++] = value;
  }

  varint(value: number): void {
    const buf = this.buf;
    if (value < TWO_POW_32) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let v = value;
    while (v > 0x7f) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  bigVarint(value: bigint): void {
    while (value >= 0x80n) {
      this.buf[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buf[this.pos++] = Number(value);
  }

  fixed32(value: number): void {
    const buf = this.buf;
    buf[this.pos++] = value & 0xff;
    buf[this.pos++] = (value >>> 8) & 0xff;
    buf[this.pos++] = (value >>> 16) & 0xff;
    buf[this.pos++] = (value >>> 24) & 0xff;
  }

  bytes(value: Uint8Array): void {
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }
}
