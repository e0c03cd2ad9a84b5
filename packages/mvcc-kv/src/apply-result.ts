import type {
  CompactionResponse,
  DeleteRangeResponse,
  PutResponse,
  TxnResponse,
} from "@raftkv/proto";
import type { MvccError } from "./errors.js";

/** The etcd response to a replicated request; tell them apart by `$typeName`. */
export type KvResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactionResponse;

/**
 * What `apply` returns for one log entry: the etcd response (header.revision filled;
 * cluster_id, member_id and raft_term are the server's to fill), an `MvccError` that the
 * request deterministically failed with on every member, or `undefined` for entries that
 * carry no request (conf changes, a new leader's empty entry).
 */
export type ApplyResult = KvResponse | MvccError | undefined;
