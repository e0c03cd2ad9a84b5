import { toBinary } from "@bufbuild/protobuf";
import {
  type DeleteRangeRequest,
  type KvRequest,
  KvRequestSchema,
  type PutRequest,
  type RangeRequest,
  RangeRequest_SortTarget,
  type RequestOp,
  type TxnRequest,
} from "@raftkv/proto";
import {
  DuplicateKeyError,
  EmptyKeyError,
  InvalidRequestError,
  KeyNotFoundError,
  LeaseProvidedError,
  RequestTooLargeError,
  TooManyOpsError,
  ValueProvidedError,
} from "./errors.js";
import { bytesToKey } from "./key-bytes.js";

/** etcd's default `--max-request-bytes`: 1.5 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** etcd's default `--max-txn-ops`. */
export const DEFAULT_MAX_TXN_OPS = 128;

/** The configurable limits a server checks before proposing a request. */
export interface RequestLimits {
  /** Largest encoded `KvRequest`, in bytes. Default `DEFAULT_MAX_REQUEST_BYTES` (1.5 MiB). */
  maxRequestBytes?: number | undefined;
  /**
   * Most compares, success ops or failure ops in one txn (each counted separately, as etcd
   * does; nested txns get what their parent leaves). Default `DEFAULT_MAX_TXN_OPS` (128).
   */
  maxTxnOps?: number | undefined;
}

/**
 * The checks etcd makes before a range is served: a non-empty key (`EmptyKeyError`), and
 * a known sort target (`InvalidRequestError`; etcd would crash on an unknown one).
 */
export function validateRangeRequest(request: RangeRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
  if (!(request.sortTarget in RangeRequest_SortTarget)) {
    throw new InvalidRequestError(`etcdserver: unknown sort target ${request.sortTarget}`);
  }
}

/**
 * etcd's put checks: a key (`EmptyKeyError`), no value with `ignore_value`
 * (`ValueProvidedError`), no lease with `ignore_lease` (`LeaseProvidedError`).
 */
export function validatePutRequest(request: PutRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
  if (request.ignoreValue && request.value.length !== 0) throw new ValueProvidedError();
  if (request.ignoreLease && request.lease !== 0n) throw new LeaseProvidedError();
}

/** etcd's delete check: a key (`EmptyKeyError`). */
export function validateDeleteRangeRequest(request: DeleteRangeRequest): void {
  if (request.key.length === 0) throw new EmptyKeyError();
}

/**
 * etcd's txn checks, in etcd's order: at most `maxTxnOps` compares, success ops and
 * failure ops (`TooManyOpsError`), non-empty compare keys, every op valid (an op with no
 * request is `KeyNotFoundError`, as in etcd), then no key put twice or both put and
 * deleted in one branch, including nested txns (`DuplicateKeyError`).
 */
export function validateTxnRequest(
  request: TxnRequest,
  maxTxnOps: number = DEFAULT_MAX_TXN_OPS,
): void {
  checkTxnShape(request, maxTxnOps);
  checkIntervals(request.success);
  checkIntervals(request.failure);
}

/**
 * Validates a `KvRequest` as a server should before proposing it, and encodes it.
 * Throws the first failing check's error (see the `validate*Request` functions), an
 * `InvalidRequestError` for a request with no operation, and `RequestTooLargeError` when
 * the encoding exceeds `maxRequestBytes`.
 */
export function encodeKvRequest(request: KvRequest, limits: RequestLimits = {}): Uint8Array {
  validateKvRequest(request, limits);
  const bytes = toBinary(KvRequestSchema, request);
  const limit = limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (bytes.length > limit) throw new RequestTooLargeError(bytes.length, limit);
  return bytes;
}

/** The checks of `encodeKvRequest` without the size limit. */
export function validateKvRequest(request: KvRequest, limits: RequestLimits = {}): void {
  const { request: inner } = request;
  switch (inner.case) {
    case "put":
      validatePutRequest(inner.value);
      return;
    case "deleteRange":
      validateDeleteRangeRequest(inner.value);
      return;
    case "txn":
      validateTxnRequest(inner.value, limits.maxTxnOps ?? DEFAULT_MAX_TXN_OPS);
      return;
    case "compaction":
      return;
    default:
      throw new InvalidRequestError("raftkv: request has no operation");
  }
}

/** Whether a txn only reads (every op of both branches is a range), as etcd decides it. */
export function isTxnReadOnly(request: TxnRequest): boolean {
  for (const op of request.success) if (op.request.case !== "requestRange") return false;
  for (const op of request.failure) if (op.request.case !== "requestRange") return false;
  return true;
}

/** Whether every op is a serializable range, so no linearizable barrier is needed. */
export function isTxnSerializable(request: TxnRequest): boolean {
  for (const op of request.success) {
    if (op.request.case !== "requestRange" || !op.request.value.serializable) return false;
  }
  for (const op of request.failure) {
    if (op.request.case !== "requestRange" || !op.request.value.serializable) return false;
  }
  return true;
}

function checkTxnShape(request: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(request.compare.length, request.success.length, request.failure.length);
  if (opc > maxTxnOps) throw new TooManyOpsError();
  for (const compare of request.compare) if (compare.key.length === 0) throw new EmptyKeyError();
  for (const op of request.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of request.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  const { request } = op;
  switch (request.case) {
    case "requestRange":
      validateRangeRequest(request.value);
      return;
    case "requestPut":
      validatePutRequest(request.value);
      return;
    case "requestDeleteRange":
      validateDeleteRangeRequest(request.value);
      return;
    case "requestTxn":
      checkTxnShape(request.value, maxTxnOps);
      return;
    default:
      throw new KeyNotFoundError();
  }
}

/**
 * A deleted interval `[begin, end)` of binary-string keys; `end === ""` is unbounded, as
 * in etcd's "affine" string intervals. A single-key delete is `[key, key + "\0")`.
 */
interface Interval {
  begin: string;
  end: string;
}

/** Compares binary strings with "" above everything, as etcd's StringAffineComparable. */
function affineCompare(a: string, b: string): number {
  if (a === "") return b === "" ? 0 : 1;
  if (b === "") return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether the single key `key` lies in one of `dels`. */
function intersectsAny(dels: readonly Interval[], key: string): boolean {
  const pointEnd = `${key}\u0000`;
  for (const d of dels) {
    const left = affineCompare(key, d.begin) < 0 && affineCompare(pointEnd, d.begin) <= 0;
    const right = affineCompare(key, d.end) >= 0;
    if (!left && !right) return true;
  }
  return false;
}

/**
 * etcd's `checkIntervals`: within one branch, a key may be put at most once and never
 * both put and deleted; the two branches of a nested txn may put the same key (only one
 * of them runs). Returns the branch's puts and deletes for the enclosing level.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.request.case !== "requestDeleteRange") continue;
    const { key, rangeEnd } = op.request.value;
    const begin = bytesToKey(key);
    dels.push({ begin, end: rangeEnd.length !== 0 ? bytesToKey(rangeEnd) : `${begin}\u0000` });
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.request.case !== "requestTxn") continue;
    const inner = op.request.value;
    const thenBranch = checkIntervals(inner.success);
    const elseBranch = checkIntervals(inner.failure);
    for (const k of thenBranch.puts) {
      if (puts.has(k) || intersectsAny(dels, k)) throw new DuplicateKeyError();
      puts.add(k);
    }
    for (const k of elseBranch.puts) {
      if (puts.has(k) && !thenBranch.puts.has(k)) throw new DuplicateKeyError();
      if (intersectsAny(dels, k)) throw new DuplicateKeyError();
      puts.add(k);
    }
    dels.push(...thenBranch.dels, ...elseBranch.dels);
  }
  for (const op of ops) {
    if (op.request.case !== "requestPut") continue;
    const k = bytesToKey(op.request.value.key);
    if (puts.has(k) || intersectsAny(dels, k)) throw new DuplicateKeyError();
    puts.add(k);
  }
  return { puts, dels };
}
