import { MalformedMessageError } from "./errors.js";

/** The protobuf wire types this codec understands (groups, types 3 and 4, are refused). */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/**
 * Reads protobuf wire-format primitives, refusing anything malformed with
 * MalformedMessageError: truncated input, varints over 10 bytes, lengths past the end,
 * and unsigned values beyond 2^53 where a JS number is expected.
 */
export class WireReader {
  pos: number;
  /** End of the message being read; nested messages narrow it and restore it after. */
  end: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    end = buf.length,
  ) {
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A field tag: field number in the high bits, wire type in the low three. */
  tag(): number {
    const tag = this.varint();
    if (tag >>> 3 === 0) throw new MalformedMessageError("protobuf field number 0 is invalid");
    return tag;
  }

  /** An unsigned varint that must fit a safe integer. */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    // Fast path: the first four bytes fit 28 bits and bitwise operations.
    for (; shift < 28; shift += 7) {
      if (this.pos >= this.end) throw truncated();
      const b = buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    let value = result >>> 0;
    let scale = 2 ** 28;
    for (let i = 4; i < 10; i++) {
      if (this.pos >= this.end) throw truncated();
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new MalformedMessageError(
            `value ${value} exceeds 2^53, the largest id, term or index`,
          );
        }
        return value;
      }
      scale *= 128;
    }
    throw new MalformedMessageError("varint longer than 10 bytes");
  }

  /** An unsigned 64-bit varint as a bigint (cluster ids use all 64 bits). */
  bigVarint(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw truncated();
      const b = this.buf[this.pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, value);
      shift += 7n;
    }
    throw new MalformedMessageError("varint longer than 10 bytes");
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  fixed32(): number {
    if (this.end - this.pos < 4) throw truncated();
    const buf = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  }

  /** The end offset of a length-delimited field whose length prefix is next. */
  lengthDelimitedEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw truncated();
    return end;
  }

  /**
   * A length-delimited field's bytes, copied so that they do not pin the received chunk.
   * (One shared buffer per batch measured no faster than a copy per entry.)
   */
  bytesCopy(): Uint8Array {
    const end = this.lengthDelimitedEnd();
    const out = this.buf.slice(this.pos, end);
    this.pos = end;
    return out;
  }

  /** A length-delimited field's bytes as a view into the input. */
  bytesView(): Uint8Array {
    const end = this.lengthDelimitedEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Skips a field of an unknown number, so newer peers can add fields. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.bigVarint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.pos = this.lengthDelimitedEnd();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new MalformedMessageError(`unsupported protobuf wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw truncated();
    this.pos += n;
  }
}

/** Throws unless `wireType` is the one field `field` of `message` is declared with. */
export function expectWireType(
  wireType: number,
  expected: number,
  message: string,
  field: string,
): void {
  if (wireType !== expected) {
    throw new MalformedMessageError(
      `${message}.${field} has wire type ${wireType}, expected ${expected}`,
    );
  }
}

function truncated(): MalformedMessageError {
  return new MalformedMessageError("protobuf message is truncated");
}
