import { Http2ProtocolError } from "./errors.js";
import { HPACK_STATIC_TABLE } from "./hpack-static-table.js";
import { huffmanDecode } from "./huffman.js";

/** Options of an HpackDecoder. */
export interface HpackDecoderOptions {
  /**
   * The largest dynamic table the peer may use: the SETTINGS_HEADER_TABLE_SIZE this side
   * advertised. Default 4096, HTTP/2's initial value.
   */
  maxTableBytes?: number;
  /**
   * Bound on one decoded header list, counted as RFC 9113 counts it (name + value + 32 per
   * field). Default 65536. A larger list fails with Http2ProtocolError.
   */
  maxHeaderListBytes?: number;
}

const ENTRY_OVERHEAD = 32;

/**
 * Decodes HPACK header blocks (RFC 7541) of one HTTP/2 connection direction. Blocks must
 * be decoded in the order they arrive, every one of them, because each may change the
 * dynamic table. Names and values are latin1 strings, one char per octet, so their length
 * is their size in octets. Any malformed block throws Http2ProtocolError, after which the
 * decoder's state is undefined and the connection must be closed (a COMPRESSION_ERROR).
 */
export class HpackDecoder {
  private readonly maxTableBytes: number;
  private readonly maxHeaderListBytes: number;
  /** Newest entry last; HPACK index 62 is the newest. */
  private readonly entries: [string, string][] = [];
  private tableBytes = 0;
  private tableLimit: number;

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableBytes = options.maxTableBytes ?? 4096;
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? 65536;
    this.tableLimit = this.maxTableBytes;
  }

  /** The dynamic table's current size in octets, as RFC 7541 §4.1 counts it. */
  get dynamicTableBytes(): number {
    return this.tableBytes;
  }

  /** Decodes one complete header block into a flat [name0, value0, name1, value1, …] list. */
  decode(block: Uint8Array): string[] {
    const out: string[] = [];
    let listBytes = 0;
    let pos = 0;
    let fieldsSeen = false;
    while (pos < block.length) {
      const first = block[pos] as number;
      let name: string;
      let value: string;
      if (first & 0x80) {
        const index = this.readInteger(block, pos, 7);
        pos = index.next;
        const entry = this.lookup(index.value);
        name = entry[0];
        value = entry[1];
      } else if ((first & 0xe0) === 0x20) {
        // A table size update is only allowed before the first field of a block (§4.2).
        if (fieldsSeen) throw new Http2ProtocolError("hpack: table size update after a field");
        const size = this.readInteger(block, pos, 5);
        pos = size.next;
        if (size.value > this.maxTableBytes) {
          throw new Http2ProtocolError(
            `hpack: table size update to ${size.value} exceeds the advertised ${this.maxTableBytes}`,
          );
        }
        this.tableLimit = size.value;
        this.evict(0);
        continue;
      } else {
        const indexing = (first & 0xc0) === 0x40;
        const index = this.readInteger(block, pos, indexing ? 6 : 4);
        pos = index.next;
        if (index.value === 0) {
          const literal = this.readString(block, pos);
          pos = literal.next;
          name = literal.value;
        } else {
          name = this.lookup(index.value)[0];
        }
        const literal = this.readString(block, pos);
        pos = literal.next;
        value = literal.value;
        if (indexing) this.insert(name, value);
      }
      fieldsSeen = true;
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) {
        throw new Http2ProtocolError(`hpack: header list exceeds ${this.maxHeaderListBytes} bytes`);
      }
      out.push(name, value);
    }
    return out;
  }

  private lookup(index: number): readonly [string, string] {
    if (index === 0) throw new Http2ProtocolError("hpack: index 0");
    if (index <= HPACK_STATIC_TABLE.length) {
      return HPACK_STATIC_TABLE[index - 1] as readonly [string, string];
    }
    const entry = this.entries[this.entries.length - 1 - (index - HPACK_STATIC_TABLE.length - 1)];
    if (!entry) throw new Http2ProtocolError(`hpack: index ${index} is beyond the tables`);
    return entry;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (§4.4).
    this.evict(size);
    if (size <= this.tableLimit) {
      this.entries.push([name, value]);
      this.tableBytes += size;
    }
  }

  /** Evicts oldest entries until `incoming` more octets fit the table limit. */
  private evict(incoming: number): void {
    while (this.entries.length > 0 && this.tableBytes + incoming > this.tableLimit) {
      const [name, value] = this.entries.shift() as [string, string];
      this.tableBytes -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }

  /** Reads an integer with an N-bit prefix (§5.1); values above 2^31 are rejected. */
  private readInteger(
    block: Uint8Array,
    pos: number,
    prefixBits: number,
  ): { value: number; next: number } {
    const mask = (1 << prefixBits) - 1;
    let value = (block[pos] as number) & mask;
    pos += 1;
    if (value < mask) return { value, next: pos };
    let shift = 0;
    for (;;) {
      if (pos >= block.length) throw new Http2ProtocolError("hpack: truncated integer");
      const byte = block[pos] as number;
      pos += 1;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > 0x7fffffff) throw new Http2ProtocolError("hpack: integer overflow");
      if ((byte & 0x80) === 0) return { value, next: pos };
    }
  }

  private readString(block: Uint8Array, pos: number): { value: string; next: number } {
    if (pos >= block.length) throw new Http2ProtocolError("hpack: truncated string");
    const huffman = ((block[pos] as number) & 0x80) !== 0;
    const length = this.readInteger(block, pos, 7);
    const start = length.next;
    const end = start + length.value;
    if (end > block.length) throw new Http2ProtocolError("hpack: truncated string");
    const value = huffman
      ? huffmanDecode(block, start, end)
      : Buffer.from(block.buffer, block.byteOffset + start, length.value).toString("latin1");
    return { value, next: end };
  }
}
