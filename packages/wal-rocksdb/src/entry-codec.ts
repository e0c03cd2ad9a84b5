import { crc32 } from "node:zlib";
import type { Entry, EntryType } from "@raftkv/raft-core";
import { readU64, writeU64 } from "./binary.js";

/**
 * A log entry on disk: `crc32(4) | layout(1) | type(1) | term(8) | index(8) | data`,
 * integers big-endian. The CRC-32 (zlib's, IEEE polynomial) covers everything after it,
 * including the index, so an entry stored under the wrong key is caught too.
 */
const LAYOUT = 1;
export const ENTRY_HEADER_BYTES = 22;
const MAX_ENTRY_TYPE = 2;

export function encodeEntry(entry: Entry): Uint8Array {
  const out = new Uint8Array(ENTRY_HEADER_BYTES + entry.data.length);
  const view = new DataView(out.buffer);
  view.setUint8(4, LAYOUT);
  view.setUint8(5, entry.type);
  writeU64(view, 6, entry.term);
  writeU64(view, 14, entry.index);
  out.set(entry.data, ENTRY_HEADER_BYTES);
  view.setUint32(0, crc32(out.subarray(4)));
  return out;
}

/** Why a stored entry was rejected, for the corruption report. */
export type EntryDefect = "too-short" | "checksum" | "layout" | "type" | "term" | "index";

/**
 * Decodes and verifies a stored entry. Returns the defect instead of throwing, so that
 * the loader can tell a torn tail from corruption in the middle of the log.
 * `data` is a view into `value`, which the caller must not reuse.
 */
export function decodeEntry(value: Uint8Array, expectedIndex: number): Entry | EntryDefect {
  if (value.length < ENTRY_HEADER_BYTES) return "too-short";
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (view.getUint32(0) !== crc32(value.subarray(4))) return "checksum";
  if (view.getUint8(4) !== LAYOUT) return "layout";
  const type = view.getUint8(5);
  if (type > MAX_ENTRY_TYPE) return "type";
  const term = readU64(view, 6);
  if (term < 0) return "term";
  const index = readU64(view, 14);
  if (index !== expectedIndex) return "index";
  // A plain Uint8Array view (not a Buffer subarray), so callers see the type they wrote.
  const data = new Uint8Array(
    value.buffer,
    value.byteOffset + ENTRY_HEADER_BYTES,
    value.byteLength - ENTRY_HEADER_BYTES,
  );
  return { term, index, type: type as EntryType, data };
}
