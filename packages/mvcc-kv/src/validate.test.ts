import { create, fromBinary } from "@bufbuild/protobuf";
import {
  KvRequestSchema,
  type RangeRequest_SortTarget,
  RangeRequestSchema,
  TxnRequestSchema,
} from "@raftkv/proto";
import { describe, expect, it } from "vitest";
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
import type { KvRequestInit, TxnInit } from "./testdata/harness.js";
import {
  DEFAULT_MAX_REQUEST_BYTES,
  encodeKvRequest,
  isTxnReadOnly,
  isTxnSerializable,
  validateRangeRequest,
  validateTxnRequest,
} from "./validate.js";

const enc = (text: string) => new TextEncoder().encode(text);
const kv = (init: KvRequestInit) => create(KvRequestSchema, init);
const txn = (init: TxnInit) => create(TxnRequestSchema, init);
const put = (key: string, value = "v") => ({
  request: { case: "requestPut" as const, value: { key: enc(key), value: enc(value) } },
});
const del = (key: string, rangeEnd?: string) => ({
  request: {
    case: "requestDeleteRange" as const,
    value: { key: enc(key), rangeEnd: rangeEnd === undefined ? undefined : enc(rangeEnd) },
  },
});
const read = (key: string) => ({
  request: { case: "requestRange" as const, value: { key: enc(key), serializable: true } },
});
const nested = (init: TxnInit) => ({ request: { case: "requestTxn" as const, value: init } });

describe("encodeKvRequest", () => {
  it("encodes a valid request so that it decodes back", () => {
    const request = kv({
      id: 7n,
      request: { case: "put", value: { key: enc("a"), value: enc("1") } },
    });
    const bytes = encodeKvRequest(request);
    expect(fromBinary(KvRequestSchema, bytes)).toEqual(request);
  });

  it("rejects empty keys in puts, deletes, txn ops and compares with etcd's EmptyKey", () => {
    expect(() =>
      encodeKvRequest(kv({ request: { case: "put", value: { key: new Uint8Array(0) } } })),
    ).toThrow(EmptyKeyError);
    expect(() => encodeKvRequest(kv({ request: { case: "deleteRange", value: {} } }))).toThrow(
      EmptyKeyError,
    );
    expect(() => validateTxnRequest(txn({ success: [read("")] }))).toThrow(EmptyKeyError);
    expect(() => validateTxnRequest(txn({ compare: [{ key: new Uint8Array(0) }] }))).toThrow(
      EmptyKeyError,
    );
    expect(() => validateRangeRequest(create(RangeRequestSchema, {}))).toThrow(EmptyKeyError);
  });

  it("rejects a value with ignore_value and a lease with ignore_lease", () => {
    const ignoreValue = kv({
      request: { case: "put", value: { key: enc("a"), value: enc("x"), ignoreValue: true } },
    });
    expect(() => encodeKvRequest(ignoreValue)).toThrow(ValueProvidedError);
    const ignoreLease = kv({
      request: { case: "put", value: { key: enc("a"), lease: 3n, ignoreLease: true } },
    });
    expect(() => encodeKvRequest(ignoreLease)).toThrow(LeaseProvidedError);
  });

  it("rejects a request with no operation, and an op with no request as etcd does (KeyNotFound)", () => {
    expect(() => encodeKvRequest(kv({ id: 1n }))).toThrow(InvalidRequestError);
    expect(() => validateTxnRequest(txn({ success: [{}] }))).toThrow(KeyNotFoundError);
  });

  it("rejects an encoding above maxRequestBytes (default 1.5 MiB) with RequestTooLarge", () => {
    const big = (size: number) =>
      kv({ request: { case: "put", value: { key: enc("a"), value: new Uint8Array(size) } } });
    expect(() => encodeKvRequest(big(DEFAULT_MAX_REQUEST_BYTES - 100))).not.toThrow();
    const error = (() => {
      try {
        encodeKvRequest(big(DEFAULT_MAX_REQUEST_BYTES));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(error).toMatchObject({
      grpcStatus: 3,
      message: "etcdserver: request is too large",
      limit: DEFAULT_MAX_REQUEST_BYTES,
    });
    expect(() => encodeKvRequest(big(2000), { maxRequestBytes: 1000 })).toThrow(
      RequestTooLargeError,
    );
  });
});

describe("validateTxnRequest", () => {
  const ops = (n: number, prefix = "k") =>
    Array.from({ length: n }, (_, i) => put(`${prefix}${i}`));

  it("allows maxTxnOps compares, success and failure ops each, and no more", () => {
    expect(() => validateTxnRequest(txn({ success: ops(128), failure: ops(128) }))).not.toThrow();
    expect(() => validateTxnRequest(txn({ success: ops(129) }))).toThrow(TooManyOpsError);
    const compares = Array.from({ length: 129 }, () => ({ key: enc("a") }));
    expect(() => validateTxnRequest(txn({ compare: compares }))).toThrow(TooManyOpsError);
    expect(() => validateTxnRequest(txn({ success: ops(5) }), 4)).toThrow(TooManyOpsError);
  });

  it("gives a nested txn only what its parent leaves of the budget (128 - 101 = 27)", () => {
    expect(() =>
      validateTxnRequest(txn({ success: [...ops(100), nested({ success: ops(27, "n") })] })),
    ).not.toThrow();
    expect(() =>
      validateTxnRequest(txn({ success: [...ops(100), nested({ success: ops(28, "n") })] })),
    ).toThrow(TooManyOpsError);
  });

  it("rejects a key put twice in a branch, or put and deleted", () => {
    expect(() => validateTxnRequest(txn({ success: [put("a"), put("a")] }))).toThrow(
      DuplicateKeyError,
    );
    expect(() => validateTxnRequest(txn({ failure: [del("a", "c"), put("b")] }))).toThrow(
      DuplicateKeyError,
    );
    expect(() => validateTxnRequest(txn({ success: [put("b"), del("b")] }))).toThrow(
      DuplicateKeyError,
    );
    expect(() =>
      validateTxnRequest(txn({ success: [put("a")], failure: [put("a")] })),
    ).not.toThrow();
    expect(() => validateTxnRequest(txn({ success: [del("a"), del("a")] }))).not.toThrow();
  });

  it("checks nested txns against their parent, letting both branches of one nested txn put a key", () => {
    expect(() =>
      validateTxnRequest(txn({ success: [put("a"), nested({ success: [put("a")] })] })),
    ).toThrow(DuplicateKeyError);
    expect(() =>
      validateTxnRequest(txn({ success: [del("a"), nested({ failure: [put("a")] })] })),
    ).toThrow(DuplicateKeyError);
    expect(() =>
      validateTxnRequest(txn({ success: [nested({ success: [del("a", "b")] }), put("a")] })),
    ).toThrow(DuplicateKeyError);
    expect(() =>
      validateTxnRequest(txn({ success: [nested({ success: [put("a")], failure: [put("a")] })] })),
    ).not.toThrow();
    expect(() =>
      validateTxnRequest(
        txn({ success: [nested({ success: [put("a")] }), nested({ failure: [put("a")] })] }),
      ),
    ).toThrow(DuplicateKeyError);
  });

  it("lets a delete with range_end \\0 overlap a put, as etcd 3.4's interval check does", () => {
    expect(() =>
      validateTxnRequest(txn({ success: [del("a", "\u0000"), put("b")] })),
    ).not.toThrow();
  });

  it("rejects an unknown sort target", () => {
    expect(() =>
      validateRangeRequest(
        create(RangeRequestSchema, { key: enc("a"), sortTarget: 9 as RangeRequest_SortTarget }),
      ),
    ).toThrow(InvalidRequestError);
  });
});

describe("isTxnReadOnly / isTxnSerializable", () => {
  it("tell read-only and serializable txns apart as etcd does", () => {
    expect(isTxnReadOnly(txn({ success: [read("a")], failure: [read("b")] }))).toBe(true);
    expect(isTxnReadOnly(txn({ success: [read("a"), nested({})] }))).toBe(false);
    expect(isTxnSerializable(txn({ success: [read("a")] }))).toBe(true);
    const linearizable = txn({
      success: [{ request: { case: "requestRange", value: { key: enc("a") } } }],
    });
    expect(isTxnSerializable(linearizable)).toBe(false);
  });
});
