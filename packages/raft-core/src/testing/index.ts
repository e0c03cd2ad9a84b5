/**
 * `@raftkv/raft-core/testing`: in-memory implementations of the contracts and harnesses
 * for tests, examples and simulations. Not for production use.
 */

export { type BugName, injectBug } from "../sim/bugs.js";
export { type Invariant, InvariantViolation, SafetyChecker } from "../sim/checker.js";
export { type BatchOptions, describeFailures, runBatch } from "../sim/run-batch.js";
export {
  type SimOptions,
  type SimResult,
  type SimStats,
  Simulation,
  simulate,
} from "../sim/simulator.js";
export {
  type LogStoreCheck,
  type LogStoreHarness,
  LogStoreSuiteError,
  logStoreSuite,
} from "./log-store-suite.js";
export { MemoryLogStore, type MemoryLogStoreOptions } from "./memory-log-store.js";
export {
  type LinkFaults,
  MemoryNetwork,
  type MemoryNetworkOptions,
  MemoryTransport,
  SnapshotTransferError,
} from "./memory-network.js";
export { MemoryStorage } from "./memory-storage.js";
export {
  SyncCluster,
  type SyncClusterNode,
  type SyncClusterOptions,
} from "./sync-cluster.js";
