import { type CheckOptions, type CheckResult, checkOperations } from "./check.js";
import type { Model } from "./model.js";
import type { Operation } from "./operation.js";

/** The verdict on a history made of independent parts (for a key-value store: keys). */
export interface PartitionedCheckResult<I, O> {
  /**
   * "not-linearizable" if any part is; otherwise "unknown" if any part could not be
   * settled in time; "linearizable" only when every part is.
   */
  readonly verdict: CheckResult<I, O>["verdict"];
  /** One result per part, in the order the parts were given. */
  readonly parts: ReadonlyMap<string, CheckResult<I, O>>;
}

/**
 * Checks each part of a history on its own. Linearizability is local (Herlihy & Wing,
 * Theorem 1): a history of independent objects is linearizable exactly when each
 * object's sub-history is, so each key is checked separately, which keeps the search
 * small. All parts share one time budget; parts left when it runs out are "unknown".
 */
export function checkPartitioned<S, I, O>(
  model: Model<S, I, O>,
  parts: ReadonlyMap<string, readonly Operation<I, O>[]>,
  options: CheckOptions = {},
): PartitionedCheckResult<I, O> {
  const deadline = options.deadline ?? performance.now() + (options.timeoutMs ?? 60_000);
  const results = new Map<string, CheckResult<I, O>>();
  let sawUnknown = false;
  let sawFailure = false;
  for (const [name, operations] of parts) {
    const result = checkOperations(model, operations, { ...options, deadline });
    results.set(name, result);
    if (result.verdict === "not-linearizable") sawFailure = true;
    if (result.verdict === "unknown") sawUnknown = true;
  }
  const verdict = sawFailure ? "not-linearizable" : sawUnknown ? "unknown" : "linearizable";
  return { verdict, parts: results };
}

/** Groups operations by `keyOf`, keeping the order of first appearance. */
export function partitionBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const parts = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = parts.get(key);
    if (list === undefined) parts.set(key, [item]);
    else list.push(item);
  }
  return parts;
}
