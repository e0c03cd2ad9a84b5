import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "@raftkv/proto";
import {
  CompactedError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseNotFoundError,
} from "./errors.js";
import { bytesToKey, compareBytes } from "./key-bytes.js";
import type { VisibleRevision } from "./key-index.js";
import type { LeaseRegistry } from "./leases.js";
import {
  type ReadView,
  type RevisionRef,
  range,
  rangeEnd,
  rangeKeys,
  toRevision,
} from "./range.js";
import { header, toKeyValue } from "./responses.js";
import { isTxnReadOnly } from "./validate.js";
import type { WriteTxn } from "./write-txn.js";

/**
 * etcd's Put inside a write txn (`applierV3backend.Put`): reads the previous version when
 * `prev_kv`, `ignore_value` or `ignore_lease` need it; `KeyNotFoundError` when an
 * `ignore_*` flag names a missing key. Synchronous unless that read misses the cache.
 */
export function applyPut(txn: WriteTxn, request: PutRequest): PutResponse | Promise<PutResponse> {
  if (!(request.ignoreValue || request.ignoreLease || request.prevKv)) {
    const revision = txn.put(request.key, request.value, request.lease);
    return { $typeName: "etcdserverpb.PutResponse", header: header(revision), prevKv: undefined };
  }
  return applyPutWithPrevious(txn, request);
}

async function applyPutWithPrevious(txn: WriteTxn, request: PutRequest): Promise<PutResponse> {
  let prev: KeyValue | undefined;
  let value = request.value;
  let lease = request.lease;
  const found = await rangeKeys(txn, bytesToKey(request.key), undefined, {
    limit: 0,
    rev: 0,
    countOnly: false,
  });
  const record = found.records[0];
  if ((request.ignoreValue || request.ignoreLease) && record === undefined)
    throw new KeyNotFoundError();
  if (record !== undefined) {
    if (request.ignoreValue) value = record.value;
    if (request.ignoreLease) lease = record.lease;
    if (request.prevKv) prev = toKeyValue(record);
  }
  const revision = txn.put(request.key, value, lease);
  return { $typeName: "etcdserverpb.PutResponse", header: header(revision), prevKv: prev };
}

/**
 * etcd's DeleteRange inside a write txn: `prev_kvs` as they were, then the deletion.
 * Synchronous without `prev_kv`.
 */
export function applyDeleteRange(
  txn: WriteTxn,
  request: DeleteRangeRequest,
): DeleteRangeResponse | Promise<DeleteRangeResponse> {
  const key = bytesToKey(request.key);
  const end = rangeEnd(request.rangeEnd);
  const finish = (prevKvs: KeyValue[]): DeleteRangeResponse => {
    const deleted = txn.deleteRange(key, end);
    return {
      $typeName: "etcdserverpb.DeleteRangeResponse",
      header: header(txn.rev),
      deleted: BigInt(deleted),
      prevKvs,
    };
  };
  if (!request.prevKv) return finish([]);
  return rangeKeys(txn, key, end, { limit: 0, rev: 0, countOnly: false }).then((found) =>
    finish(found.records.map((r) => toKeyValue(r))),
  );
}

/** The branch a txn takes and, for each nested txn in that branch, in order, its own path. */
interface TxnPath {
  succeeded: boolean;
  nested: TxnPath[];
}

/**
 * etcd 3.4's Txn (`applierV3backend.Txn`) on `txn`: every compare of the whole tree is
 * evaluated first, against the state before the txn; then, for a txn that writes, the
 * chosen puts are checked (`KeyNotFoundError` for `ignore_*` on a missing key,
 * `LeaseNotFoundError`); then the chosen ranges (`FutureRevisionError`,
 * `CompactedError`); only then do the ops run, in order, all at one revision. A failed
 * check changes nothing. Nested txn responses carry a header with revision 0, as etcd's.
 */
export async function applyTxn(
  txn: WriteTxn | ReadView,
  request: TxnRequest,
  leases: LeaseRegistry,
): Promise<TxnResponse> {
  const path = await compareToPath(txn, request);
  if (!isTxnReadOnly(request)) await checkPuts(txn, request, path, leases);
  checkRanges(txn, request, path);
  const response = await runTxn(txn, request, path);
  response.header = header(txn.rev);
  return response;
}

async function compareToPath(view: ReadView, request: TxnRequest): Promise<TxnPath> {
  const succeeded = await applyCompares(view, request.compare);
  const nested: TxnPath[] = [];
  for (const op of succeeded ? request.success : request.failure) {
    if (op.request.case === "requestTxn") nested.push(await compareToPath(view, op.request.value));
  }
  return { succeeded, nested };
}

async function applyCompares(view: ReadView, compares: readonly Compare[]): Promise<boolean> {
  for (const c of compares) if (!(await applyCompare(view, c))) return false;
  return true;
}

/** Every key of the compare's range must satisfy it; an empty range compares as a zero KeyValue, except on VALUE. */
async function applyCompare(view: ReadView, c: Compare): Promise<boolean> {
  const found: { ref: RevisionRef; rev: VisibleRevision }[] = [];
  view.index.visible(bytesToKey(c.key), rangeEnd(c.rangeEnd), view.rev, (ki, rev) => {
    found.push({ ref: { ki, main: rev.main, sub: rev.sub }, rev });
  });
  if (found.length === 0) {
    if (c.target === Compare_CompareTarget.VALUE) return false;
    return compareResult(
      c,
      compareTarget(c, { version: 0, created: 0, main: 0, value: EMPTY, lease: 0n }),
    );
  }
  const needRecords =
    c.target === Compare_CompareTarget.VALUE || c.target === Compare_CompareTarget.LEASE;
  const records = needRecords ? await view.fetch(found.map((f) => f.ref)) : undefined;
  for (let i = 0; i < found.length; i++) {
    const { rev } = found[i]!;
    const record = records?.[i];
    const fields = {
      version: rev.version,
      created: rev.created,
      main: rev.main,
      value: record?.value ?? EMPTY,
      lease: record?.lease ?? 0n,
    };
    if (!compareResult(c, compareTarget(c, fields))) return false;
  }
  return true;
}

const EMPTY = new Uint8Array(0);

interface CompareFields {
  version: number;
  created: number;
  main: number;
  value: Uint8Array;
  lease: bigint;
}

/** The sign of (key's field - compare's operand); 0 for an unknown target, as in etcd. */
function compareTarget(c: Compare, kv: CompareFields): number {
  const { targetUnion } = c;
  switch (c.target) {
    case Compare_CompareTarget.VALUE:
      return compareBytes(kv.value, targetUnion.case === "value" ? targetUnion.value : EMPTY);
    case Compare_CompareTarget.CREATE:
      return compareInt(kv.created, targetUnion.case === "createRevision" ? targetUnion.value : 0n);
    case Compare_CompareTarget.MOD:
      return compareInt(kv.main, targetUnion.case === "modRevision" ? targetUnion.value : 0n);
    case Compare_CompareTarget.VERSION:
      return compareInt(kv.version, targetUnion.case === "version" ? targetUnion.value : 0n);
    case Compare_CompareTarget.LEASE: {
      const operand = targetUnion.case === "lease" ? targetUnion.value : 0n;
      return kv.lease < operand ? -1 : kv.lease > operand ? 1 : 0;
    }
    default:
      return 0;
  }
}

function compareInt(a: number, b: bigint): number {
  const big = BigInt(a);
  return big < b ? -1 : big > b ? 1 : 0;
}

/** An unknown result operator holds, as in etcd. */
function compareResult(c: Compare, sign: number): boolean {
  switch (c.result) {
    case Compare_CompareResult.EQUAL:
      return sign === 0;
    case Compare_CompareResult.NOT_EQUAL:
      return sign !== 0;
    case Compare_CompareResult.GREATER:
      return sign > 0;
    case Compare_CompareResult.LESS:
      return sign < 0;
    default:
      return true;
  }
}

/**
 * etcd's put checks, walking the chosen ops in execution order. Beyond etcd, a put with
 * `ignore_value` or `ignore_lease` whose key an earlier delete of the same txn removes is
 * refused here with `KeyNotFoundError`: etcd 3.4's interval check misses deletes with
 * range_end "\0", lets such a txn through, and then panics applying it.
 */
async function checkPuts(
  view: ReadView,
  request: TxnRequest,
  path: TxnPath,
  leases: LeaseRegistry,
  deleted: { key: string; end: string | undefined }[] = [],
): Promise<void> {
  let nested = 0;
  for (const op of path.succeeded ? request.success : request.failure) {
    const { request: inner } = op;
    if (inner.case === "requestTxn") {
      await checkPuts(view, inner.value, path.nested[nested++]!, leases, deleted);
      continue;
    }
    if (inner.case === "requestDeleteRange") {
      deleted.push({ key: bytesToKey(inner.value.key), end: rangeEnd(inner.value.rangeEnd) });
      continue;
    }
    if (inner.case !== "requestPut") continue;
    const put = inner.value;
    if (put.ignoreValue || put.ignoreLease) {
      const key = bytesToKey(put.key);
      let exists = false;
      view.index.visible(key, undefined, view.rev, () => {
        exists = true;
      });
      if (!exists || deleted.some((d) => inSpan(key, d.key, d.end))) throw new KeyNotFoundError();
    }
    if (put.lease !== 0n && !leases.has(put.lease)) throw new LeaseNotFoundError();
  }
}

/** Whether `key` lies in the range `[start, end)` as a request names it (see `rangeEnd`). */
function inSpan(key: string, start: string, end: string | undefined): boolean {
  if (end === undefined) return key === start;
  return key >= start && (end === "" || key < end);
}

function checkRanges(view: ReadView, request: TxnRequest, path: TxnPath): void {
  let nested = 0;
  for (const op of path.succeeded ? request.success : request.failure) {
    const { request: inner } = op;
    if (inner.case === "requestTxn") {
      checkRanges(view, inner.value, path.nested[nested++]!);
      continue;
    }
    if (inner.case !== "requestRange") continue;
    const revision = toRevision(inner.value.revision);
    if (revision === 0) continue;
    if (revision > view.rev) throw new FutureRevisionError();
    if (revision < view.compactRev) throw new CompactedError();
  }
}

async function runTxn(
  view: WriteTxn | ReadView,
  request: TxnRequest,
  path: TxnPath,
): Promise<TxnResponse> {
  const responses: ResponseOp[] = [];
  let nested = 0;
  for (const op of path.succeeded ? request.success : request.failure) {
    const { request: inner } = op;
    let response: ResponseOp["response"];
    switch (inner.case) {
      case "requestRange":
        response = { case: "responseRange", value: await range(view, inner.value) };
        break;
      case "requestPut":
        response = { case: "responsePut", value: await applyPut(asWriter(view), inner.value) };
        break;
      case "requestDeleteRange":
        response = {
          case: "responseDeleteRange",
          value: await applyDeleteRange(asWriter(view), inner.value),
        };
        break;
      case "requestTxn": {
        const value = await runTxn(view, inner.value, path.nested[nested++]!);
        value.header = header(0);
        response = { case: "responseTxn", value };
        break;
      }
      default:
        response = { case: undefined };
    }
    responses.push({ $typeName: "etcdserverpb.ResponseOp", response });
  }
  return {
    $typeName: "etcdserverpb.TxnResponse",
    header: undefined,
    succeeded: path.succeeded,
    responses,
  };
}

function asWriter(view: WriteTxn | ReadView): WriteTxn {
  if (!("put" in view)) throw new Error("raftkv: a read-only txn reached a write op");
  return view;
}
