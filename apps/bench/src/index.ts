export type { ClusterDriver, MemberCommand, MemberPlan } from "./cluster-driver.js";
export {
  createEtcdDriver,
  createRaftkvDriver,
  defaultRaftkvCliPath,
  type EtcdDriverOptions,
  type RaftkvDriverOptions,
} from "./cluster-driver.js";
export { type CountVerification, verifyPutCount } from "./count-verification.js";
export { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.js";
export {
  BenchError,
  CallTimeoutError,
  ClusterStartError,
  ConnectionClosedError,
  CountMismatchError,
  GrpcStatusError,
  Http2ProtocolError,
  InvalidOptionError,
  QueueFullError,
  ToolError,
  WorkerError,
} from "./errors.js";
export { type MemberStatus, readRevision, readStatus } from "./etcd-api.js";
export {
  GrpcUnaryConnection,
  type GrpcUnaryConnectionOptions,
  type PreparedMethod,
  type UnaryCallback,
} from "./grpc-unary-connection.js";
export { LatencyHistogram, type LatencyHistogramSnapshot } from "./latency-histogram.js";
export {
  type LatencySummary,
  type LoadOptions,
  type LoadResult,
  runLoad,
} from "./load-generator.js";
export {
  type ClusterMember,
  LocalCluster,
  type LocalClusterOptions,
} from "./local-cluster.js";
export { OPERATIONS, type Operation, type WorkloadSpec } from "./workload.js";
