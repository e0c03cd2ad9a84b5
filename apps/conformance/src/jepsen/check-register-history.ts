import type { CheckOptions } from "../linearizability/check.js";
import type { Operation } from "../linearizability/operation.js";
import {
  checkPartitioned,
  type PartitionedCheckResult,
} from "../linearizability/partitioned-check.js";
import {
  createRegisterModel,
  type RegisterInput,
  type RegisterOutput,
} from "../linearizability/register-model.js";
import type { RecordedOperation } from "./recorded-operation.js";

/**
 * The checker's view of a recorded history, one list per key: failed operations are
 * dropped (they did not happen), unknown ones keep no output and return at infinity.
 */
export function toCheckerOperations(
  recorded: readonly RecordedOperation[],
): Map<string, Operation<RegisterInput, RegisterOutput>[]> {
  const parts = new Map<string, Operation<RegisterInput, RegisterOutput>[]>();
  for (const op of recorded) {
    if (op.status === "fail") continue;
    const list = parts.get(op.key) ?? [];
    list.push({
      id: op.id,
      clientId: op.clientId,
      input: op.input,
      output: op.status === "ok" ? op.output : undefined,
      call: op.call,
      return: op.status === "ok" && op.return !== null ? op.return : Number.POSITIVE_INFINITY,
    });
    parts.set(op.key, list);
  }
  return parts;
}

/**
 * Checks a recorded register history for linearizability, per key, starting from empty
 * registers.
 */
export function checkRegisterHistory(
  recorded: readonly RecordedOperation[],
  options: CheckOptions = {},
): PartitionedCheckResult<RegisterInput, RegisterOutput> {
  return checkPartitioned(createRegisterModel(), toCheckerOperations(recorded), options);
}
