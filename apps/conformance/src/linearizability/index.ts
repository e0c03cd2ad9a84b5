export {
  type CheckOptions,
  type CheckResult,
  checkOperations,
  type FailingWindow,
} from "./check.js";
export { describeWindow } from "./describe-window.js";
export { illegal, type Model } from "./model.js";
export { isUnknownOutcome, type Operation } from "./operation.js";
export {
  checkPartitioned,
  type PartitionedCheckResult,
  partitionBy,
} from "./partitioned-check.js";
export {
  anyValue,
  createRegisterModel,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
} from "./register-model.js";
export {
  RegisterHistoryBuilder,
  type RegisterOperation,
  registerHistory,
  type SimulationOptions,
  simulateRegisterHistory,
} from "./testing-history.js";
