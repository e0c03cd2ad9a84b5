import type { BackendEntry } from "./backend.js";
import { crc32c } from "./crc32c.js";
import { CorruptStateError } from "./errors.js";
import { compareBytes } from "./key-bytes.js";
import { readUint64BE, writeUint64BE } from "./keyspace.js";
import { readVarint, writeVarint } from "./kv-record.js";

/**
 * The byte stream of a state snapshot: a dump of every backend entry of the store, in
 * key order, so that a member that restores it holds a byte-identical backend.
 *
 * ```
 * "RKVMVCC" 0x01            magic and format version (8 bytes)
 * applied index             8 bytes big-endian
 * 0x01 varint(len) key varint(len) value     one per entry, in key order
 * 0x00 count crc            8-byte big-endian entry count, then the CRC-32C of every
 *                           byte before the CRC, 4 bytes big-endian
 * ```
 *
 * Chunk boundaries carry no meaning; a reader must accept any split.
 */
const MAGIC = Uint8Array.of(0x52, 0x4b, 0x56, 0x4d, 0x56, 0x43, 0x43, 0x01); // "RKVMVCC" 1

/** Default chunk size of a snapshot stream: 1 MiB. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** The largest key + value a reader accepts in one entry (guards against a corrupt length). */
export const MAX_SNAPSHOT_ENTRY_BYTES = 64 * 1024 * 1024;

/** Encodes `entries` (in key order) as a snapshot stream of chunks of `chunkBytes`. */
export async function* encodeSnapshot(
  appliedIndex: number,
  entries: AsyncIterable<BackendEntry>,
  chunkBytes: number = DEFAULT_SNAPSHOT_CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  const out = new ChunkWriter(Math.max(64, chunkBytes));
  const head = new Uint8Array(16);
  head.set(MAGIC, 0);
  writeUint64BE(head, 8, appliedIndex);
  out.append(head);
  let count = 0;
  const lengths = new Uint8Array(20);
  for await (const { key, value } of entries) {
    lengths[0] = 0x01;
    let pos = writeVarint(lengths, 1, key.length);
    out.append(lengths.subarray(0, pos));
    out.append(key);
    pos = writeVarint(lengths, 0, value.length);
    out.append(lengths.subarray(0, pos));
    out.append(value);
    count++;
    yield* out.takeFull();
  }
  const tail = new Uint8Array(9);
  writeUint64BE(tail, 1, count);
  out.append(tail);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, out.crc);
  out.append(crc, false);
  yield* out.takeFull();
  const last = out.takeRest();
  if (last.length > 0) yield last;
}

/** What a snapshot stream holds, as `decodeSnapshot` reports it. */
export type SnapshotItem =
  | { kind: "header"; appliedIndex: number }
  | { kind: "entry"; entry: BackendEntry };

/**
 * Decodes a snapshot stream: first the header, then every entry. The whole stream is
 * verified as it goes and at its end (count and CRC); any defect (wrong magic or
 * version, a truncated stream, trailing bytes, entries out of order, a bad CRC) throws
 * `CorruptStateError` — possibly after some entries were yielded, so a caller must not
 * commit the restore before the generator has finished.
 */
export async function* decodeSnapshot(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<SnapshotItem> {
  const reader = new ChunkReader(chunks[Symbol.asyncIterator]());
  const head = await reader.read(16);
  for (let i = 0; i < MAGIC.length; i++) {
    if (head[i] !== MAGIC[i])
      throw new CorruptStateError("not a raftkv mvcc snapshot (bad magic or version)");
  }
  yield { kind: "header", appliedIndex: readUint64BE(head, 8) };
  let count = 0;
  let previous: Uint8Array | undefined;
  for (;;) {
    const tag = (await reader.read(1))[0];
    if (tag === 0x00) break;
    if (tag !== 0x01) throw new CorruptStateError(`snapshot entry has unknown tag ${String(tag)}`);
    const keyLength = await reader.varint();
    if (keyLength > MAX_SNAPSHOT_ENTRY_BYTES)
      throw new CorruptStateError("snapshot key length is out of range");
    const key = (await reader.read(keyLength)).slice();
    const valueLength = await reader.varint();
    if (keyLength + valueLength > MAX_SNAPSHOT_ENTRY_BYTES) {
      throw new CorruptStateError("snapshot entry length is out of range");
    }
    const value = (await reader.read(valueLength)).slice();
    if (previous !== undefined && compareBytes(previous, key) >= 0) {
      throw new CorruptStateError("snapshot entries are not in strictly ascending key order");
    }
    previous = key;
    count++;
    yield { kind: "entry", entry: { key, value } };
  }
  const stated = readUint64BE(await reader.read(8), 0);
  const expected = reader.crc;
  const crc = new DataView((await reader.read(4)).slice().buffer).getUint32(0);
  if (stated !== count)
    throw new CorruptStateError(`snapshot says ${stated} entries but holds ${count}`);
  if (crc !== expected) throw new CorruptStateError("snapshot checksum mismatch");
  if (!(await reader.atEnd())) throw new CorruptStateError("snapshot has bytes after its end");
}

/** Packs appended bytes into fixed-size chunks and keeps a running CRC. */
class ChunkWriter {
  crc = 0;
  private buffer: Uint8Array;
  private pos = 0;
  private readonly full: Uint8Array[] = [];

  constructor(private readonly size: number) {
    this.buffer = new Uint8Array(size);
  }

  append(bytes: Uint8Array, checksum = true): void {
    if (checksum) this.crc = crc32c(this.crc, bytes);
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, this.size - this.pos);
      this.buffer.set(bytes.subarray(offset, offset + n), this.pos);
      this.pos += n;
      offset += n;
      if (this.pos === this.size) {
        this.full.push(this.buffer);
        this.buffer = new Uint8Array(this.size);
        this.pos = 0;
      }
    }
  }

  takeFull(): Uint8Array[] {
    return this.full.splice(0);
  }

  takeRest(): Uint8Array {
    return this.buffer.slice(0, this.pos);
  }
}

/** Reads exact byte counts across arbitrary chunk boundaries, with a running CRC. */
class ChunkReader {
  crc = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** The next `n` bytes (a view that is valid until the next read). */
  async read(n: number): Promise<Uint8Array> {
    if (this.chunk.length - this.offset >= n) {
      const view = this.chunk.subarray(this.offset, this.offset + n);
      this.offset += n;
      this.crc = crc32c(this.crc, view);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.offset === this.chunk.length && !(await this.next())) {
        throw new CorruptStateError("snapshot stream ends early");
      }
      const take = Math.min(n - filled, this.chunk.length - this.offset);
      out.set(this.chunk.subarray(this.offset, this.offset + take), filled);
      this.offset += take;
      filled += take;
    }
    this.crc = crc32c(this.crc, out);
    return out;
  }

  async varint(): Promise<number> {
    const bytes: number[] = [];
    for (;;) {
      const b = (await this.read(1))[0]!;
      bytes.push(b);
      if (b < 0x80) break;
      if (bytes.length > 8) throw new CorruptStateError("snapshot varint is too long");
    }
    return readVarint(Uint8Array.from(bytes), 0)[0];
  }

  async atEnd(): Promise<boolean> {
    while (this.offset === this.chunk.length) {
      if (!(await this.next())) return true;
    }
    return false;
  }

  private async next(): Promise<boolean> {
    const result = await this.source.next();
    if (result.done === true) return false;
    this.chunk = result.value;
    this.offset = 0;
    return true;
  }
}
