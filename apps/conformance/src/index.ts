/**
 * raftkv-conformance: a black-box conformance suite for etcd v3 compatible servers.
 * The CLI (`raftkv-conformance api | jepsen | check-history | raft | list`) is built from
 * these parts; use them to run the suite from your own tests or to write a driver.
 * The linearizability checker is also available alone as
 * `raftkv-conformance/linearizability`.
 */
export {
  type ApiCase,
  type ApiContext,
  type ApiLimits,
  etcdDefaultLimits,
} from "./api/api-context.js";
export { type ApiSuiteOptions, apiCases, runApiSuite } from "./api/api-suite.js";
export type { CliIo } from "./cli/cli-io.js";
export { runCli } from "./cli/run-cli.js";
export { endpointToUrl, parseEndpointList } from "./endpoint.js";
export {
  CaseTimeoutError,
  ClusterNotReadyError,
  ConformanceAssertionError,
  ConformanceError,
  DriverError,
  InvalidEndpointError,
  UsageError,
} from "./errors.js";
export { createEtcdClient, type EtcdClient, type EtcdClientOptions } from "./etcd-client.js";
export {
  allFeatures,
  type CaseOutcome,
  type CaseResult,
  type ConformanceCase,
  type Feature,
} from "./harness/conformance-case.js";
export { check, type ExpectedStatus, expectEqual, expectStatus } from "./harness/expect.js";
export { type JUnitOptions, toJUnitXml } from "./harness/junit.js";
export { type RunOptions, runCases } from "./harness/run-cases.js";
export { formatSummary, type Summary, summarize } from "./harness/summary.js";
export { checkRegisterHistory, toCheckerOperations } from "./jepsen/check-register-history.js";
export type {
  ClusterDriver,
  CreateDriver,
  DriverOptions,
  MemberInfo,
} from "./jepsen/cluster-driver.js";
export { createDriver as createEtcdDriver, defaultEtcdCommand } from "./jepsen/etcd-driver.js";
export { describeJepsenRun, jepsenCaseResults } from "./jepsen/jepsen-report.js";
export { loadDriver } from "./jepsen/load-driver.js";
export { allFaults, type FaultKind, findLeader } from "./jepsen/nemesis.js";
export {
  type ClusterLayout,
  createProcessCluster,
  etcdStyleFlags,
  type MemberCommand,
  type MemberLayout,
  type ProcessClusterOptions,
} from "./jepsen/process-cluster.js";
export { createDriver as createRaftkvDriver, defaultRaftkvCli } from "./jepsen/raftkv-driver.js";
export type {
  NemesisEvent,
  OperationStatus,
  RecordedOperation,
} from "./jepsen/recorded-operation.js";
export {
  type JepsenOptions,
  type JepsenResult,
  type OperationCounts,
  runJepsen,
} from "./jepsen/run-jepsen.js";
export { FakeLeader, type LogPosition, type Replication } from "./raft/fake-leader.js";
export { FakePeer, type ReceivedMessage, type Responder } from "./raft/fake-peer.js";
export {
  attachNode,
  type FakeMemberAddress,
  type LaunchNodeOptions,
  launchNode,
  type NodeUnderTest,
} from "./raft/node-under-test.js";
export { PeerLink, type PeerLinkEnd } from "./raft/peer-link.js";
export type { RaftCase } from "./raft/raft-case.js";
export {
  type LaunchMode,
  type RaftSuiteOptions,
  raftCases,
  runRaftSuite,
  type TargetMode,
} from "./raft/raft-suite.js";
export {
  type Campaign,
  type OptionalRaftFeature,
  optionalRaftFeatures,
  type RaftRequirement,
  type RaftTiming,
  ScriptedCluster,
} from "./raft/scripted-cluster.js";
