export type { ClusterDriver, MemberCommand, MemberPlan } from "./cluster-driver.js";
export {
  createEtcdDriver,
  createRaftkvDriver,
  defaultRaftkvCliPath,
  type EtcdDriverOptions,
  type RaftkvDriverOptions,
} from "./cluster-driver.js";
export {
  type ComparisonOptions,
  type ComparisonReport,
  comparisonScenarios,
  runComparison,
  type Scenario,
  type ScenarioResult,
  type ServerRun,
} from "./comparison.js";
export { type CountVerification, verifyPutCount } from "./count-verification.js";
export { type ProfileEntry, summarizeCpuProfile } from "./cpu-profile.js";
export { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.js";
export {
  BenchError,
  CallTimeoutError,
  ClusterStartError,
  ConnectionClosedError,
  GrpcStatusError,
  Http2ProtocolError,
  InvalidOptionError,
  QueueFullError,
  ToolError,
  WorkerError,
} from "./errors.js";
export { type MemberStatus, readRevision, readStatus } from "./etcd-api.js";
export {
  type CeilingOptions,
  type CeilingResult,
  measureGeneratorCeiling,
} from "./generator-ceiling.js";
export {
  GrpcUnaryConnection,
  type GrpcUnaryConnectionOptions,
  type PreparedMethod,
  type UnaryCallback,
} from "./grpc-unary-connection.js";
export { type H2loadOptions, type H2loadResult, runH2load } from "./h2load.js";
export { LatencyHistogram, type LatencyHistogramSnapshot } from "./latency-histogram.js";
export { type LoadOptions, runLoad } from "./load-generator.js";
export {
  type LatencySummary,
  type LoadResult,
  mergeLoadResults,
  summarizeLatency,
} from "./load-result.js";
export {
  type ClusterMember,
  LocalCluster,
  type LocalClusterOptions,
} from "./local-cluster.js";
export { OPERATIONS, type Operation, type WorkloadSpec } from "./workload.js";
