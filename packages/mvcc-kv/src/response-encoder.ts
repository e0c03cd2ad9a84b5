import type {
  CompactionResponse,
  DeleteRangeResponse,
  KeyValue,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnResponse,
} from "@raftkv/proto";
import type { KvResponse } from "./apply-result.js";
import { uint64Size, varintSize } from "./kv-record.js";

/**
 * Protobuf encoding of the responses apply produces, byte for byte what protobuf-es'
 * `toBinary` writes (fields in number order, proto3 defaults left out, present messages
 * written even when empty), in two passes (sizes, then one exact allocation). It exists
 * because every applied request with an id stores its response in the request-id table:
 * `toBinary` of a txn response carrying a 256-byte prev_kv took about 5 µs, most of it
 * growing its buffers. A property test checks it against `toBinary`.
 */
export function encodeResponse(response: KvResponse): Uint8Array {
  const sizes: number[] = [];
  const size = sizeOf(response, sizes);
  const w = new Writer(new Uint8Array(size), sizes);
  writeResponse(w, response);
  return w.buf;
}

type Encodable = KvResponse | RangeResponse;

function sizeOf(message: Encodable, sizes: number[]): number {
  switch (message.$typeName) {
    case "etcdserverpb.RangeResponse":
      return sizeRange(message, sizes);
    case "etcdserverpb.PutResponse":
      return (
        sizeHeaderField(message.header, sizes) +
        sizeMessageField(message.prevKv, sizeKeyValue, sizes)
      );
    case "etcdserverpb.DeleteRangeResponse": {
      let size = sizeHeaderField(message.header, sizes) + sizeInt64Field(message.deleted);
      for (const kv of message.prevKvs) size += sizeMessageField(kv, sizeKeyValue, sizes);
      return size;
    }
    case "etcdserverpb.TxnResponse": {
      let size = sizeHeaderField(message.header, sizes) + (message.succeeded ? 2 : 0);
      for (const op of message.responses) size += sizeMessageField(op, sizeResponseOp, sizes);
      return size;
    }
    default:
      return sizeHeaderField(message.header, sizes);
  }
}

function sizeRange(message: RangeResponse, sizes: number[]): number {
  let size = sizeHeaderField(message.header, sizes);
  for (const kv of message.kvs) size += sizeMessageField(kv, sizeKeyValue, sizes);
  return size + (message.more ? 2 : 0) + sizeInt64Field(message.count);
}

function sizeResponseOp(op: ResponseOp, sizes: number[]): number {
  const { response } = op;
  if (response.case === undefined) return 0;
  return sizeMessageField(response.value, sizeOf, sizes);
}

function sizeHeader(h: ResponseHeader): number {
  return (
    sizeInt64Field(h.clusterId) +
    sizeInt64Field(h.memberId) +
    sizeInt64Field(h.revision) +
    sizeInt64Field(h.raftTerm)
  );
}

function sizeHeaderField(h: ResponseHeader | undefined, sizes: number[]): number {
  return sizeMessageField(h, (m) => sizeHeader(m), sizes);
}

function sizeKeyValue(kv: KeyValue): number {
  return (
    sizeBytesField(kv.key) +
    sizeInt64Field(kv.createRevision) +
    sizeInt64Field(kv.modRevision) +
    sizeInt64Field(kv.version) +
    sizeBytesField(kv.value) +
    sizeInt64Field(kv.lease)
  );
}

/**
 * A message field: tag, length, body. The body sizes are recorded in pre-order, in the
 * order the write pass will need them.
 */
function sizeMessageField<T>(
  message: T | undefined,
  size: (m: T, sizes: number[]) => number,
  sizes: number[],
): number {
  if (message === undefined) return 0;
  const slot = sizes.length;
  sizes.push(0);
  const body = size(message, sizes);
  sizes[slot] = body;
  return 1 + varintSize(body) + body;
}

function sizeBytesField(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : 1 + varintSize(bytes.length) + bytes.length;
}

function sizeInt64Field(n: bigint): number {
  return n === 0n ? 0 : 1 + uint64Size(BigInt.asUintN(64, n));
}

class Writer {
  pos = 0;
  private next = 0;
  constructor(
    readonly buf: Uint8Array,
    private readonly sizes: number[],
  ) {}

  /** Writes a message field's tag and the length recorded for it in the size pass. */
  messageStart(field: number): void {
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(this.sizes[this.next++]!);
  }

  varint(n: number): void {
    while (n > 0x7f) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  int64Field(field: number, n: bigint): void {
    if (n === 0n) return;
    this.buf[this.pos++] = field << 3;
    let u = BigInt.asUintN(64, n);
    if (u <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.varint(Number(u));
      return;
    }
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  boolField(field: number, value: boolean): void {
    if (!value) return;
    this.buf[this.pos++] = field << 3;
    this.buf[this.pos++] = 1;
  }

  bytesField(field: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}

function writeResponse(w: Writer, message: Encodable): void {
  switch (message.$typeName) {
    case "etcdserverpb.RangeResponse":
      writeHeader(w, message.header);
      for (const kv of message.kvs) writeKeyValue(w, 2, kv);
      w.boolField(3, message.more);
      w.int64Field(4, message.count);
      return;
    case "etcdserverpb.PutResponse":
      writeHeader(w, message.header);
      if (message.prevKv !== undefined) writeKeyValue(w, 2, message.prevKv);
      return;
    case "etcdserverpb.DeleteRangeResponse":
      writeHeader(w, message.header);
      w.int64Field(2, message.deleted);
      for (const kv of message.prevKvs) writeKeyValue(w, 3, kv);
      return;
    case "etcdserverpb.TxnResponse":
      writeHeader(w, message.header);
      w.boolField(2, message.succeeded);
      for (const op of message.responses) writeResponseOp(w, op);
      return;
    default:
      writeHeader(w, (message as CompactionResponse).header);
  }
}

const RESPONSE_OP_FIELDS = {
  responseRange: 1,
  responsePut: 2,
  responseDeleteRange: 3,
  responseTxn: 4,
} as const;

function writeResponseOp(w: Writer, op: ResponseOp): void {
  w.messageStart(3);
  const { response } = op;
  if (response.case === undefined) return;
  w.messageStart(RESPONSE_OP_FIELDS[response.case]);
  writeResponse(
    w,
    response.value as PutResponse | RangeResponse | DeleteRangeResponse | TxnResponse,
  );
}

function writeHeader(w: Writer, h: ResponseHeader | undefined): void {
  if (h === undefined) return;
  w.messageStart(1);
  w.int64Field(1, h.clusterId);
  w.int64Field(2, h.memberId);
  w.int64Field(3, h.revision);
  w.int64Field(4, h.raftTerm);
}

function writeKeyValue(w: Writer, field: number, kv: KeyValue): void {
  w.messageStart(field);
  w.bytesField(1, kv.key);
  w.int64Field(2, kv.createRevision);
  w.int64Field(3, kv.modRevision);
  w.int64Field(4, kv.version);
  w.bytesField(5, kv.value);
  w.int64Field(6, kv.lease);
}
