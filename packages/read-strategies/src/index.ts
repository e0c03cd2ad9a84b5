/**
 * @raftkv/read-strategies: one interface for every read consistency a Raft-replicated
 * state machine can offer — linearizable (Raft's ReadIndex), serializable (local state)
 * and session (at least as new as what the client has seen).
 */
export {
  ReadAbortedError,
  ReadBarrierClosedError,
  ReadBarrierError,
  SessionReadTimeoutError,
} from "./errors.js";
export { ProgressWaiters } from "./progress-waiters.js";
export {
  ReadBarrier,
  type ReadBarrierOptions,
  type ReadConsistency,
  type ReadIndexSource,
  type ReadOptions,
} from "./read-barrier.js";
