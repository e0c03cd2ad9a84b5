/**
 * One header field to encode: a full static-table entry, a static-table name with a
 * literal value, or a literal name and value.
 */
export type HeaderField =
  | { index: number }
  | { nameIndex: number; value: string }
  | { name: string; value: string };

/**
 * Encodes a header block (RFC 7541) that never touches the peer's dynamic table: fields
 * are static-table references or literals "without indexing", and strings are not
 * Huffman-coded. A client that sends the same few headers on every request pre-encodes the
 * block once, so the size saved by indexing would not buy any CPU back. Names and values
 * must be latin1 (one octet per char).
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [];
  for (const field of fields) {
    if ("index" in field) {
      encodeInteger(out, field.index, 7, 0x80);
    } else if ("nameIndex" in field) {
      encodeInteger(out, field.nameIndex, 4, 0x00);
      encodeString(out, field.value);
    } else {
      out.push(0x00);
      encodeString(out, field.name);
      encodeString(out, field.value);
    }
  }
  return Uint8Array.from(out);
}

/** Appends an integer with an N-bit prefix; `flags` fills the bits above the prefix. */
export function encodeInteger(
  out: number[],
  value: number,
  prefixBits: number,
  flags: number,
): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function encodeString(out: number[], text: string): void {
  encodeInteger(out, text.length, 7, 0x00);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 255) throw new RangeError(`header text must be latin1: ${JSON.stringify(text)}`);
    out.push(code);
  }
}
