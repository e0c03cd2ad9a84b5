/**
 * The etcd v3 client API (packages etcdserverpb, mvccpb and authpb), wire-compatible
 * with etcd 3.4+: message schemas, enums and the KV, Watch, Lease, Cluster,
 * Maintenance and Auth service descriptors that `@connectrpc/connect` 2.x uses
 * directly. Field names follow protobuf-es: `range_end` is `rangeEnd`, 64-bit integers
 * are `bigint`.
 */
export * from "./gen/authpb/auth_pb.js";
export * from "./gen/etcdserverpb/rpc_pb.js";
export * from "./gen/mvccpb/kv_pb.js";
