import { Http2ProtocolError } from "./errors.js";

/**
 * Code lengths of HPACK's Huffman code for symbols 0–255 and EOS (256), from RFC 7541
 * Appendix B. The code is canonical (codes of one length are consecutive, assigned in
 * symbol order, shorter lengths first), so the lengths alone determine every code.
 */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5,
  6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6,
  7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23,
  23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22,
  22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22,
  23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27,
  27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25,
  24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS = 256;
const MAX_CODE_LENGTH = 30;

/** Per length: how many codes have it, and the symbols sorted by (length, symbol). */
const countByLength = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
for (const length of CODE_LENGTHS) countByLength[length] = (countByLength[length] ?? 0) + 1;
const symbolsByCode = CODE_LENGTHS.map((length, symbol) => ({ length, symbol }))
  .sort((a, b) => a.length - b.length || a.symbol - b.symbol)
  .map((e) => e.symbol);

/** Each symbol's code, derived canonically from the lengths. */
const codes = new Array<number>(CODE_LENGTHS.length).fill(0);
{
  let code = 0;
  let previousLength = 0;
  for (const symbol of symbolsByCode) {
    const length = CODE_LENGTHS[symbol] as number;
    code *= 2 ** (length - previousLength);
    codes[symbol] = code;
    code += 1;
    previousLength = length;
  }
}

/**
 * Decodes a Huffman-coded HPACK string literal to a latin1 string (one char per octet).
 * Throws Http2ProtocolError when the input contains EOS, or ends with more than 7 bits of
 * padding or padding that is not a prefix of EOS (RFC 7541 §5.2).
 */
export function huffmanDecode(input: Uint8Array, start = 0, end = input.length): string {
  let out = "";
  // Canonical decoding: `first` is the first code of the current length and `index` the
  // position of that length's first symbol in symbolsByCode.
  let code = 0;
  let first = 0;
  let index = 0;
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = input[i] as number;
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length += 1;
      const count = countByLength[length] as number;
      if (code - first < count) {
        const symbol = symbolsByCode[index + code - first] as number;
        if (symbol === EOS) throw new Http2ProtocolError("hpack: Huffman string contains EOS");
        out += String.fromCharCode(symbol);
        code = 0;
        first = 0;
        index = 0;
        length = 0;
      } else {
        index += count;
        first = (first + count) * 2;
        if (length >= MAX_CODE_LENGTH) {
          throw new Http2ProtocolError("hpack: invalid Huffman code");
        }
      }
    }
  }
  if (length > 7 || code !== 2 ** length - 1) {
    throw new Http2ProtocolError("hpack: invalid Huffman padding");
  }
  return out;
}

/** Huffman-codes latin1 `text` (one octet per char), padding the last octet with EOS bits. */
export function huffmanEncode(text: string): Uint8Array {
  const bytes: number[] = [];
  let current = 0;
  let used = 0;
  const pushBit = (bit: number): void => {
    current = (current << 1) | bit;
    used += 1;
    if (used === 8) {
      bytes.push(current);
      current = 0;
      used = 0;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i);
    if (symbol > 255) throw new RangeError("huffmanEncode takes latin1 text");
    const length = CODE_LENGTHS[symbol] as number;
    const code = codes[symbol] as number;
    for (let bit = length - 1; bit >= 0; bit--) pushBit(Math.floor(code / 2 ** bit) & 1);
  }
  while (used !== 0) pushBit(1);
  return Uint8Array.from(bytes);
}
