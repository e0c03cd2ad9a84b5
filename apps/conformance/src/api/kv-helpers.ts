import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  type DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequestSchema,
  type PutResponse,
  type RangeRequest,
  type RangeRequestSchema,
  type RangeResponse,
  type RequestOpSchema,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequestSchema,
  type TxnResponse,
} from "@raftkv/proto/etcd";
import { ConformanceAssertionError } from "../errors.js";
import { check } from "../harness/expect.js";
import type { ApiContext } from "./api-context.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes as text, for messages and comparisons of text keys. */
export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

/** range_end "\0": every key >= key. */
export const fromKey: Uint8Array = new Uint8Array([0]);

/**
 * The range end that selects every key starting with `prefix`: the prefix with its last
 * byte below 0xff incremented and what follows dropped; "\0" (every key) when every byte
 * is 0xff. The same rule as clientv3's GetPrefixRangeEnd.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return fromKey;
}

/** Fails unless the response has a header; returns it. */
export function headerOf(
  response: { header?: ResponseHeader | undefined },
  what: string,
): ResponseHeader {
  if (response.header === undefined) {
    throw new ConformanceAssertionError(`${what}: response has no header`);
  }
  return response.header;
}

/** Puts `key` = `value` and returns the revision of the put. */
export async function putKey(
  context: ApiContext,
  key: Uint8Array,
  value: string | Uint8Array,
): Promise<bigint> {
  const response = await context.client.kv.put(
    { key, value: typeof value === "string" ? bytes(value) : value },
    { signal: context.signal },
  );
  return headerOf(response, `put ${text(key)}`).revision;
}

/** Puts each `name` = `value` under the case's prefix, in order; returns their revisions. */
export async function putAll(
  context: ApiContext,
  entries: readonly (readonly [string, string])[],
): Promise<bigint[]> {
  const revisions: bigint[] = [];
  for (const [name, value] of entries)
    revisions.push(await putKey(context, context.key(name), value));
  return revisions;
}

/** The store's current revision, from a range's header. */
export async function currentRevision(context: ApiContext): Promise<bigint> {
  const response = await context.client.kv.range(
    { key: context.key("~revision-probe") },
    { signal: context.signal },
  );
  return headerOf(response, "range").revision;
}

/** Ranges over every key of the case. */
export async function rangeAll(
  context: ApiContext,
  request: {
    [K in Exclude<
      keyof RangeRequest,
      "$typeName" | "$unknown" | "key" | "rangeEnd"
    >]?: RangeRequest[K];
  } = {},
) {
  return context.client.kv.range(
    { key: context.prefix, rangeEnd: prefixEnd(context.prefix), ...request },
    { signal: context.signal },
  );
}

/** The keys of `kvs` without the case prefix, in order. */
export function names(context: ApiContext, kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => text(kv.key.subarray(context.prefix.length)));
}

/** The values of `kvs` as text, in order. */
export function values(kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => text(kv.value));
}

type RequestOpInit = MessageInitShape<typeof RequestOpSchema>;

export const rangeOp = (request: MessageInitShape<typeof RangeRequestSchema>): RequestOpInit => ({
  request: { case: "requestRange", value: request },
});
export const putOp = (request: MessageInitShape<typeof PutRequestSchema>): RequestOpInit => ({
  request: { case: "requestPut", value: request },
});
export const deleteOp = (
  request: MessageInitShape<typeof DeleteRangeRequestSchema>,
): RequestOpInit => ({ request: { case: "requestDeleteRange", value: request } });
export const txnOp = (request: MessageInitShape<typeof TxnRequestSchema>): RequestOpInit => ({
  request: { case: "requestTxn", value: request },
});

type CompareInit = MessageInitShape<typeof CompareSchema>;

/** A compare of a key's (or range's) version, create/mod revision or lease with a number. */
export function compareNumber(
  key: Uint8Array,
  target: "version" | "createRevision" | "modRevision" | "lease",
  result: Compare_CompareResult,
  value: bigint,
  rangeEnd?: Uint8Array,
): CompareInit {
  const targets = {
    version: Compare_CompareTarget.VERSION,
    createRevision: Compare_CompareTarget.CREATE,
    modRevision: Compare_CompareTarget.MOD,
    lease: Compare_CompareTarget.LEASE,
  } as const;
  return {
    key,
    result,
    target: targets[target],
    targetUnion: { case: target, value },
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
  };
}

/** A compare of a key's (or range's) value. */
export function compareValue(
  key: Uint8Array,
  result: Compare_CompareResult,
  value: string,
  rangeEnd?: Uint8Array,
): CompareInit {
  return {
    key,
    result,
    target: Compare_CompareTarget.VALUE,
    targetUnion: { case: "value", value: bytes(value) },
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
  };
}

interface ResponseKinds {
  responseRange: RangeResponse;
  responsePut: PutResponse;
  responseDeleteRange: DeleteRangeResponse;
  responseTxn: TxnResponse;
}

/** The response of a txn branch's operation `index`, checked to be of kind `kind`. */
export function responseAt<K extends keyof ResponseKinds>(
  responses: readonly ResponseOp[],
  index: number,
  kind: K,
): ResponseKinds[K] {
  const response = responses[index]?.response;
  check(
    response !== undefined && response.case === kind,
    `txn response ${index}: expected ${kind}, got ${response?.case ?? "nothing"}`,
  );
  return response.value as ResponseKinds[K];
}
