import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { RequestTooLargeError } from "@raftkv/mvcc-kv";

/** The `oneof request` field numbers of raftkv.kv.v1.KvRequest (proto/raftkv/kv/v1/request.proto). */
export const KvRequestField = { put: 2, deleteRange: 3, txn: 4, compaction: 5 } as const;
export type KvRequestKind = keyof typeof KvRequestField;

function varintLength(n: bigint | number): number {
  let v = BigInt(n);
  let len = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, at: number, n: bigint | number): number {
  let v = BigInt(n);
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

/**
 * Encodes a KvRequest around a request's own protobuf bytes: `id` (field 1) and the
 * request as its oneof field. When the request came from the wire its bytes are reused
 * as they are, so a put is never decoded and re-encoded on its way into the log; the
 * result is byte-identical to protobuf-es encoding the same KvRequest (tested).
 * Throws RequestTooLargeError above `maxBytes`, etcd's --max-request-bytes check.
 */
export function encodeKvEnvelope<D extends DescMessage>(
  id: bigint,
  kind: KvRequestKind,
  schema: D,
  request: MessageShape<D>,
  raw: Uint8Array | undefined,
  maxBytes: number,
): Uint8Array {
  const inner = raw ?? toBinary(schema, request);
  const idLength = id === 0n ? 0 : 1 + varintLength(id);
  const size = idLength + 1 + varintLength(inner.length) + inner.length;
  if (size > maxBytes) throw new RequestTooLargeError(size, maxBytes);
  const out = new Uint8Array(size);
  let at = 0;
  if (id !== 0n) {
    out[at++] = 0x08;
    at = writeVarint(out, at, id);
  }
  out[at++] = (KvRequestField[kind] << 3) | 2;
  at = writeVarint(out, at, inner.length);
  out.set(inner, at);
  return out;
}
