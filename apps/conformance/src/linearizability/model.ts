/**
 * A sequential specification the checker tests a concurrent history against, in the
 * style of Porcupine's `Model`: an initial state and a step function. Outputs of
 * operations whose outcome is unknown (a timeout, a lost connection) are `undefined`:
 * the step must then accept the operation as having taken effect, since "never took
 * effect" is covered by the checker placing it after every other operation.
 */
export interface Model<State, Input, Output> {
  /** The state before any operation. */
  init(): State;
  /**
   * Applies `input` to `state`. Returns the next state, or `illegal` when the
   * specification cannot produce `output` from `state`. Must be pure.
   */
  step(state: State, input: Input, output: Output | undefined): State | typeof illegal;
  /** A string that is equal for two states exactly when they are equal; used to memoize. */
  key(state: State): string;
  /**
   * A state that stands for every state: stepping from it rejects only what no state
   * could accept. The checker uses it to test a window of a history on its own; without
   * it, windows always start at the beginning of the history.
   */
  anyState?(): State;
  /** Human-readable state, for reports. */
  describeState(state: State): string;
  /** Human-readable operation, for reports. */
  describeOperation(input: Input, output: Output | undefined): string;
}

/** Returned by `Model.step` when the output is impossible from the state. */
export const illegal: unique symbol = Symbol("illegal");
