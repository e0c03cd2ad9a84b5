/**
 * Conversions between byte arrays and "binary strings" (one code unit per byte), the
 * form in which mvcc-kv keeps keys in memory: V8 stores them as compact one-byte
 * strings, `Map` and `<` work on them directly, and their order is unsigned byte order.
 */
import { Buffer } from "node:buffer";

/** The binary string of `bytes`. */
export function bytesToKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * A fresh, exactly-sized byte array for a binary string. It never shares memory with a
 * pooled buffer, so it may be kept for a long time without pinning a larger slab.
 */
export function keyToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length);
  if (key.length < 32) {
    for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  } else {
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).write(key, "latin1");
  }
  return bytes;
}

/** A copy of `bytes` that owns its memory (protobuf decoders hand out views). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

/** Unsigned byte-wise comparison, shorter first on a common prefix: RocksDB's order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
