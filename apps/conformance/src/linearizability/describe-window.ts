import type { FailingWindow } from "./check.js";
import type { Model } from "./model.js";

/**
 * Renders a failing window as lines a person can read: one operation per line with its
 * client, invocation and response times (milliseconds since `origin`) and what it did.
 */
export function describeWindow<S, I, O>(
  model: Model<S, I, O>,
  window: FailingWindow<I, O>,
  origin = 0,
): string[] {
  const at = (t: number): string => (Number.isFinite(t) ? (t - origin).toFixed(1) : "never");
  const lines = [
    `failing window: ${window.operations.length} operations, ${at(window.start)}..${at(window.end)} ms` +
      `, from ${window.fromAnyState ? "any state" : `the initial state ${model.describeState(model.init())}`}` +
      (window.minimal ? "" : " (not minimal: the time budget ran out while shrinking)"),
  ];
  for (const op of window.operations) {
    lines.push(
      `  op ${op.id} client ${op.clientId} [${at(op.call)} .. ${at(op.return)}] ` +
        model.describeOperation(op.input, op.output),
    );
  }
  return lines;
}
