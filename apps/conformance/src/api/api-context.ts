import type { EtcdClient } from "../etcd-client.js";
import type { ConformanceCase } from "../harness/conformance-case.js";

/** Server limits the suite checks; they are server configuration, so they are options. */
export interface ApiLimits {
  /**
   * The largest request the server accepts for a write (etcd --max-request-bytes,
   * default 1.5 MiB); larger writes fail with INVALID_ARGUMENT "request is too large".
   */
  readonly maxRequestBytes: number;
  /** Most operations per txn branch (etcd --max-txn-ops, default 128). */
  readonly maxTxnOps: number;
}

/** etcd 3.4's defaults (embed/config.go). */
export const etcdDefaultLimits: ApiLimits = {
  maxRequestBytes: 1.5 * 1024 * 1024,
  maxTxnOps: 128,
};

/** What each API case gets. */
export interface ApiContext {
  /** A client of the first endpoint. */
  readonly client: EtcdClient;
  /** A client of every endpoint, `client` first. */
  readonly clients: readonly EtcdClient[];
  /**
   * A key prefix no other case (and no other run) uses; every key a case writes
   * starts with it, and it is deleted when the case ends.
   */
  readonly prefix: Uint8Array;
  /** `prefix` + `name`. */
  key(name: string): Uint8Array;
  readonly limits: ApiLimits;
  /** Aborted when the case times out. */
  readonly signal: AbortSignal;
}

/** An API conformance case. */
export type ApiCase = ConformanceCase<ApiContext>;
