import type { KeyValue, ResponseHeader } from "@raftkv/proto";
import type { KvRecord } from "./kv-record.js";

const EMPTY = new Uint8Array(0);

/**
 * A response header carrying only the revision. etcd fills cluster_id, member_id and
 * raft_term in the server, on the outermost response only; nested txn responses keep 0.
 */
export function header(revision: number): ResponseHeader {
  return {
    $typeName: "etcdserverpb.ResponseHeader",
    clusterId: 0n,
    memberId: 0n,
    revision: BigInt(revision),
    raftTerm: 0n,
  };
}

/** The `mvccpb.KeyValue` of a record, without its value for keys-only reads. */
export function toKeyValue(record: KvRecord, keysOnly = false): KeyValue {
  return {
    $typeName: "mvccpb.KeyValue",
    key: record.key,
    createRevision: BigInt(record.createRevision),
    modRevision: BigInt(record.modRevision),
    version: BigInt(record.version),
    value: keysOnly ? EMPTY : record.value,
    lease: record.lease,
  };
}
