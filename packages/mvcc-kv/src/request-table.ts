import { fromBinary } from "@bufbuild/protobuf";
import {
  CompactionResponseSchema,
  DeleteRangeResponseSchema,
  PutResponseSchema,
  TxnResponseSchema,
} from "@raftkv/proto";
import type { ApplyBatch } from "./apply-batch.js";
import type { ApplyResult } from "./apply-result.js";
import {
  applyErrorFromCode,
  CorruptStateError,
  DuplicateRequestError,
  MvccError,
} from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import { writeVarint } from "./kv-record.js";
import { encodeResponse } from "./response-encoder.js";

/**
 * How many applied request ids a store remembers. A fixed constant, not an option: the
 * table is replicated state, so every member must keep exactly the same ids.
 */
export const REQUEST_ID_WINDOW = 65_536;
/** The total size of remembered results; older ids are forgotten first beyond it. */
export const REQUEST_RESULT_WINDOW_BYTES = 16 * 1024 * 1024;
/** A result larger than this is not kept: a repeat of its id gets `DuplicateRequestError`. */
export const MAX_REMEMBERED_RESULT_BYTES = 256 * 1024;

const KIND_DROPPED = 0;
const KIND_PUT = 1;
const KIND_DELETE_RANGE = 2;
const KIND_TXN = 3;
const KIND_COMPACTION = 4;
const KIND_ERROR = 5;

const KINDS = {
  "etcdserverpb.PutResponse": KIND_PUT,
  "etcdserverpb.DeleteRangeResponse": KIND_DELETE_RANGE,
  "etcdserverpb.TxnResponse": KIND_TXN,
  "etcdserverpb.CompactionResponse": KIND_COMPACTION,
} as const;

interface Remembered {
  seq: number;
  id: bigint;
  /** The stored value: 8-byte id, kind byte, payload. */
  bytes: Uint8Array;
}

/**
 * The ids of the most recently applied requests and their results, so that a request
 * applied twice (a proposal retried after a leader change) takes effect once: the
 * repeat gets the first result. Oldest first out, bounded by `REQUEST_ID_WINDOW` ids and
 * `REQUEST_RESULT_WINDOW_BYTES`. Persisted under the `0x02 seq` keys in the same batch
 * as the request's effects, and carried in snapshots.
 */
export class RequestTable {
  private readonly byId = new Map<number | bigint, Remembered>();
  private readonly fifo: Remembered[] = [];
  private head = 0;
  private nextSeq = 1;
  private bytes = 0;

  constructor(private readonly keys: Keyspace) {}

  get size(): number {
    return this.byId.size;
  }

  /** The first result of `id`, if it was applied within the window. */
  lookup(id: bigint): ApplyResult | undefined {
    const entry = this.byId.get(idKey(id));
    return entry === undefined ? undefined : decodeResult(entry);
  }

  /** Remembers `result` for `id`, writing the change (and any evictions) into `batch`. */
  remember(id: bigint, result: ApplyResult, batch: ApplyBatch): void {
    const entry: Remembered = { seq: this.nextSeq++, id, bytes: encodeResult(id, result) };
    batch.put(this.keys.requestKey(entry.seq), entry.bytes);
    this.add(entry);
    while (this.byId.size > REQUEST_ID_WINDOW || this.bytes > REQUEST_RESULT_WINDOW_BYTES) {
      const oldest = this.fifo[this.head]!;
      this.fifo[this.head++] = undefined as never;
      if (this.byId.get(idKey(oldest.id)) === oldest) {
        this.byId.delete(idKey(oldest.id));
        this.bytes -= oldest.bytes.length;
      }
      batch.delete(this.keys.requestKey(oldest.seq));
    }
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Loads one stored entry (in key order) when a store opens or restores. */
  load(seq: number, bytes: Uint8Array): void {
    if (bytes.length < 9) throw new CorruptStateError("stored request-id entry is truncated");
    this.add({ seq, id: readId(bytes), bytes });
    this.nextSeq = seq + 1;
  }

  private add(entry: Remembered): void {
    const key = idKey(entry.id);
    const previous = this.byId.get(key);
    if (previous !== undefined) this.bytes -= previous.bytes.length;
    this.byId.set(key, entry);
    this.fifo.push(entry);
    this.bytes += entry.bytes.length;
  }
}

function readId(bytes: Uint8Array): bigint {
  let id = 0n;
  for (let i = 0; i < 8; i++) id = (id << 8n) | BigInt(bytes[i]!);
  return id;
}

/**
 * Writes `id` as 8 big-endian bytes without a DataView: asking a small typed array for
 * its `.buffer` moves it off the V8 heap, which costs more than the rest of `remember`.
 */
function writeId(out: Uint8Array, id: bigint): void {
  const hi = Number(id >> 32n);
  const lo = Number(id & 0xffff_ffffn);
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 0xff;
  out[2] = (hi >>> 8) & 0xff;
  out[3] = hi & 0xff;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 0xff;
  out[6] = (lo >>> 8) & 0xff;
  out[7] = lo & 0xff;
}

/** Map key of an id: a number when exact (cheaper to hash than a bigint), else the bigint. */
function idKey(id: bigint): number | bigint {
  return id <= MAX_SAFE_ID ? Number(id) : id;
}

const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

function encodeResult(id: bigint, result: ApplyResult): Uint8Array {
  const fast = encodePlainPut(id, result);
  if (fast !== undefined) return fast;
  let kind: number;
  let payload: Uint8Array;
  if (result instanceof MvccError) {
    kind = KIND_ERROR;
    payload = new TextEncoder().encode(`${result.code}\n${result.message}`);
  } else if (result === undefined) {
    kind = KIND_DROPPED;
    payload = new Uint8Array(0);
  } else {
    kind = KINDS[result.$typeName];
    payload = encodeResponse(result);
    if (payload.length > MAX_REMEMBERED_RESULT_BYTES) {
      kind = KIND_DROPPED;
      payload = new Uint8Array(0);
    }
  }
  const out = new Uint8Array(9 + payload.length);
  writeId(out, id);
  out[8] = kind;
  out.set(payload, 9);
  return out;
}

/**
 * The stored entry of a put whose response is only a header with a revision (every put
 * without prev_kv), written by hand in one allocation: every put with a request id goes
 * through here. The bytes are exactly what the generic path writes
 * (`toBinary(PutResponseSchema, ...)` after the id and kind); `undefined` for any other
 * result.
 */
function encodePlainPut(id: bigint, result: ApplyResult): Uint8Array | undefined {
  if (
    result === undefined ||
    result instanceof MvccError ||
    result.$typeName !== "etcdserverpb.PutResponse"
  ) {
    return undefined;
  }
  const h = result.header;
  if (
    result.prevKv !== undefined ||
    h === undefined ||
    h.clusterId !== 0n ||
    h.memberId !== 0n ||
    h.raftTerm !== 0n ||
    h.revision <= 0n ||
    h.revision > MAX_SAFE_ID
  ) {
    return undefined;
  }
  const revision = Number(h.revision);
  let varintLength = 1;
  for (let n = revision; n > 0x7f; n = Math.floor(n / 0x80)) varintLength++;
  const out = new Uint8Array(9 + 3 + varintLength);
  writeId(out, id);
  out[8] = KIND_PUT;
  out[9] = 0x0a; // field 1 (header), length-delimited
  out[10] = 1 + varintLength;
  out[11] = 0x18; // header field 3 (revision), varint
  writeVarint(out, 12, revision);
  return out;
}

function decodeResult(entry: Remembered): ApplyResult {
  const payload = entry.bytes.subarray(9);
  switch (entry.bytes[8]) {
    case KIND_PUT:
      return fromBinary(PutResponseSchema, payload);
    case KIND_DELETE_RANGE:
      return fromBinary(DeleteRangeResponseSchema, payload);
    case KIND_TXN:
      return fromBinary(TxnResponseSchema, payload);
    case KIND_COMPACTION:
      return fromBinary(CompactionResponseSchema, payload);
    case KIND_ERROR: {
      const text = new TextDecoder().decode(payload);
      const newline = text.indexOf("\n");
      return applyErrorFromCode(text.slice(0, newline), text.slice(newline + 1));
    }
    case KIND_DROPPED:
      return new DuplicateRequestError(entry.id);
    default:
      throw new CorruptStateError(
        `stored request-id entry has unknown kind ${String(entry.bytes[8])}`,
      );
  }
}
