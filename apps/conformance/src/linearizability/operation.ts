/**
 * One completed or abandoned operation of a concurrent history. Times are in
 * milliseconds on one monotonic clock shared by every client of the history.
 *
 * Operations that definitely failed (the server refused them before acting) are not
 * operations at all for the checker: leave them out. Operations whose outcome is unknown
 * keep `output: undefined` and `return: Infinity`: they may take effect at any time after
 * `call`, or never.
 */
export interface Operation<Input, Output> {
  /** Unique within the history; used in reports. */
  readonly id: number;
  /** The client (process) that ran it; reports only, the checker does not use it. */
  readonly clientId: number;
  readonly input: Input;
  /** `undefined` when the outcome is unknown. */
  readonly output: Output | undefined;
  /** When the client invoked it. */
  readonly call: number;
  /** When the client got the answer; `Infinity` when the outcome is unknown. */
  readonly return: number;
}

/** True when the operation's outcome is unknown (it may or may not have taken effect). */
export function isUnknownOutcome(op: Operation<unknown, unknown>): boolean {
  return op.output === undefined;
}
