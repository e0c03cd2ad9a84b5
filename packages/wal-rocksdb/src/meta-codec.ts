import { crc32 } from "node:zlib";
import type { ConfState, SnapshotMetadata } from "@raftkv/raft-core";
import { ByteReader, ByteWriter } from "./binary.js";

/**
 * Metadata records: `crc32(4) | body`, where the body starts with a layout byte. A record
 * that fails its checksum or does not parse is corruption: Raft metadata has no torn tail
 * to cut (each record is rewritten whole in an atomic batch).
 */
const LAYOUT = 1;

function seal(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out.set(body, 4);
  new DataView(out.buffer).setUint32(0, crc32(body));
  return out;
}

/** Returns the body after checking the checksum and layout; throws on a bad record. */
function open(record: Uint8Array, what: string): ByteReader {
  if (record.length < 5) throw new Error(`${what} record is ${record.length} bytes`);
  const body = record.subarray(4);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (view.getUint32(0) !== crc32(body)) throw new Error(`${what} record fails its checksum`);
  const reader = new ByteReader(body);
  const layout = reader.u8();
  if (layout !== LAYOUT) throw new Error(`${what} record has layout ${layout}, expected ${LAYOUT}`);
  return reader;
}

function writeIds(w: ByteWriter, ids: readonly number[]): void {
  w.u32(ids.length);
  for (const id of ids) w.u64(id);
}

function readIds(r: ByteReader): number[] {
  const n = r.u32();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(r.u64());
  return ids;
}

export function encodeSnapshotMetadata(meta: SnapshotMetadata): Uint8Array {
  const w = new ByteWriter().u8(LAYOUT).u64(meta.index).u64(meta.term);
  const cs = meta.confState;
  writeIds(w, cs.voters);
  writeIds(w, cs.learners);
  writeIds(w, cs.votersOutgoing);
  writeIds(w, cs.learnersNext);
  w.u8(cs.autoLeave ? 1 : 0);
  return seal(w.finish());
}

export function decodeSnapshotMetadata(record: Uint8Array): SnapshotMetadata {
  const r = open(record, "snapshot metadata");
  const index = r.u64();
  const term = r.u64();
  const confState: ConfState = {
    voters: readIds(r),
    learners: readIds(r),
    votersOutgoing: readIds(r),
    learnersNext: readIds(r),
    autoLeave: r.u8() === 1,
  };
  r.end();
  return { index, term, confState };
}

/** Who a data dir belongs to, written once when the dir is created. */
export interface DataDirIdentity {
  /** The on-disk format; bumped on any incompatible change to keys or records. */
  formatVersion: number;
  clusterId: string;
  memberId: number;
}

export function encodeIdentity(id: DataDirIdentity): Uint8Array {
  return seal(
    new ByteWriter()
      .u8(LAYOUT)
      .u32(id.formatVersion)
      .bytes(new TextEncoder().encode(id.clusterId))
      .u64(id.memberId)
      .finish(),
  );
}

export function decodeIdentity(record: Uint8Array): DataDirIdentity {
  const r = open(record, "identity");
  const formatVersion = r.u32();
  const clusterId = new TextDecoder("utf-8", { fatal: true }).decode(r.bytes());
  const memberId = r.u64();
  r.end();
  return { formatVersion, clusterId, memberId };
}

export function encodeIndex(index: number): Uint8Array {
  return seal(new ByteWriter().u8(LAYOUT).u64(index).finish());
}

export function decodeIndex(record: Uint8Array, what: string): number {
  const r = open(record, what);
  const index = r.u64();
  r.end();
  return index;
}

export const emptyConfState = (): ConfState => ({
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
});
