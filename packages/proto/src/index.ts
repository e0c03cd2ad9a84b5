/**
 * Everything generated from proto/: the etcd v3 client API, the raftkv peer protocol
 * the key-value state machine's log entry envelope (raftkv.kv.v1.KvRequest) and the
 * service that forwards writes to the leader (raftkv.kv.v1.ForwardService). The
 * contracts share no names; re-exporting them from one module makes the compiler reject
 * any future clash (TS2308). Import `@raftkv/proto/etcd` or `@raftkv/proto/raft` to see
 * only one of them.
 */
export * from "./etcd.js";
export * from "./gen/raftkv/kv/v1/forward_pb.js";
export * from "./gen/raftkv/kv/v1/request_pb.js";
export * from "./raft.js";
