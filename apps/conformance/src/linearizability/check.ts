import type { Model } from "./model.js";
import type { Operation } from "./operation.js";
import { type SearchLimits, searchLinearization } from "./search.js";

/** Limits of a check. */
export interface CheckOptions {
  /** Give up with "unknown" after this many milliseconds. Default 60 000. */
  readonly timeoutMs?: number;
  /**
   * An absolute `performance.now()` deadline; overrides `timeoutMs`. Lets several checks
   * (one per key) share one budget.
   */
  readonly deadline?: number;
  /** Give up with "unknown" when the memo table would exceed this. Default 512 MiB. */
  readonly maxMemoBytes?: number;
}

/**
 * The smallest stretch of a history found not to be linearizable on its own. The
 * history is cut at quiescent points (instants when no operation with a known outcome
 * is in flight, so every linearization orders everything before the instant before
 * everything after it); the window is a run of consecutive pieces that fails the check
 * by itself, from the model's initial state when it starts at the beginning of the
 * history and from any state (`Model.anyState`) otherwise. Operations with unknown
 * outcomes invoked earlier are included, since they may take effect inside the window.
 */
export interface FailingWindow<I, O> {
  readonly operations: readonly Operation<I, O>[];
  /** False when the window starts at the beginning of the history. */
  readonly fromAnyState: boolean;
  /** The window's first invocation and last response time (the last known one). */
  readonly start: number;
  readonly end: number;
  /**
   * False when the time budget ran out while shrinking: the window still fails, but a
   * smaller one may exist.
   */
  readonly minimal: boolean;
}

/** The verdict on one history. */
export type CheckResult<I, O> =
  | { readonly verdict: "linearizable"; readonly operations: number }
  | {
      readonly verdict: "not-linearizable";
      readonly operations: number;
      readonly window: FailingWindow<I, O>;
    }
  | {
      readonly verdict: "unknown";
      readonly operations: number;
      /** Why the checker gave up: out of time or out of memo space. */
      readonly reason: "timeout" | "memory";
    };

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_MEMO_BYTES = 512 * 1024 * 1024;

/**
 * Checks one history (for a register store: the operations on one key) against `model`.
 * Never answers "linearizable" unless the search found a linearization, and never
 * "not-linearizable" unless it proved none exists; anything the budget cannot settle
 * is "unknown". When the history is not linearizable, a minimal failing window is
 * computed from the remaining budget.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const limits: SearchLimits = {
    deadline: options.deadline ?? performance.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxMemoBytes: options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES,
    exactMemo: true,
  };
  // A hashed memo keeps memory flat on long histories; its rare "not-linearizable" is
  // confirmed by the exact search before it is reported.
  let result = searchLinearization(model, operations, model.init(), {
    ...limits,
    exactMemo: false,
  });
  if (result.verdict === "not-linearizable") {
    result = searchLinearization(model, operations, model.init(), limits);
  }
  switch (result.verdict) {
    case "linearizable":
      return { verdict: "linearizable", operations: operations.length };
    case "unknown":
      return { verdict: "unknown", operations: operations.length, reason: result.reason };
    case "not-linearizable":
      return {
        verdict: "not-linearizable",
        operations: operations.length,
        window: findFailingWindow(model, operations, limits),
      };
  }
}

interface Piece<I, O> {
  readonly start: number;
  readonly known: Operation<I, O>[];
  readonly unknown: Operation<I, O>[];
}

/** Cuts the history at quiescent points of its known-outcome operations. */
function cutAtQuiescentPoints<I, O>(operations: readonly Operation<I, O>[]): Piece<I, O>[] {
  const known = operations.filter((op) => op.output !== undefined);
  known.sort((a, b) => a.call - b.call || a.id - b.id);
  const pieces: Piece<I, O>[] = [];
  let current: Piece<I, O> | undefined;
  let latestReturn = -Infinity;
  for (const op of known) {
    if (current === undefined || op.call > latestReturn) {
      current = { start: op.call, known: [], unknown: [] };
      pieces.push(current);
    }
    current.known.push(op);
    latestReturn = Math.max(latestReturn, op.return);
  }
  if (pieces.length === 0) pieces.push({ start: -Infinity, known: [], unknown: [] });
  for (const op of operations) {
    if (op.output !== undefined) continue;
    // The last piece starting at or before the invocation; an operation invoked before
    // every piece belongs to the first.
    let index = 0;
    for (let i = pieces.length - 1; i >= 0; i--) {
      if (pieces[i]!.start <= op.call) {
        index = i;
        break;
      }
    }
    pieces[index]!.unknown.push(op);
  }
  return pieces;
}

function windowOperations<I, O>(
  pieces: readonly Piece<I, O>[],
  first: number,
  last: number,
): Operation<I, O>[] {
  const ops: Operation<I, O>[] = [];
  for (let i = 0; i <= last; i++) {
    const piece = pieces[i]!;
    if (i >= first) ops.push(...piece.known);
    // Unknown operations invoked before the window may still take effect inside it.
    ops.push(...piece.unknown);
  }
  return ops.sort((a, b) => a.call - b.call || a.id - b.id);
}

/**
 * Shrinks a failing history to a failing window: first the shortest failing prefix of
 * pieces (a prefix of a linearizable history is linearizable, so failure is monotone in
 * the end), then the latest start from which that prefix still fails (dropping pieces
 * from the front and starting from any state only adds behaviours, so failure is
 * monotone in the start too). Both by binary search.
 */
function findFailingWindow<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  limits: SearchLimits,
): FailingWindow<I, O> {
  const pieces = cutAtQuiescentPoints(operations);
  const fails = (first: number, last: number): boolean | undefined => {
    const ops = windowOperations(pieces, first, last);
    const anyState = model.anyState;
    const initial = first === 0 || anyState === undefined ? model.init() : anyState();
    const result = searchLinearization(model, ops, initial, limits);
    if (result.verdict === "unknown") return undefined;
    return result.verdict === "not-linearizable";
  };

  let minimal = true;
  // Smallest `last` such that pieces [0..last] fail; the whole history is known to fail.
  let low = 0;
  let high = pieces.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const verdict = fails(0, middle);
    if (verdict === undefined) {
      minimal = false;
      break;
    }
    if (verdict) high = middle;
    else low = middle + 1;
  }
  const last = high;

  // Largest `first` such that pieces [first..last] fail; 0 is known to fail.
  let first = 0;
  if (minimal && model.anyState !== undefined) {
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const middle = (lo + hi + 1) >>> 1;
      const verdict = fails(middle, last);
      if (verdict === undefined) {
        minimal = false;
        break;
      }
      if (verdict) lo = middle;
      else hi = middle - 1;
    }
    first = lo;
  }

  const ops = windowOperations(pieces, first, last);
  let start = Infinity;
  let end = -Infinity;
  for (const op of ops) {
    start = Math.min(start, op.call);
    if (op.output !== undefined) end = Math.max(end, op.return);
  }
  return {
    operations: ops,
    fromAnyState: first > 0 && model.anyState !== undefined,
    start,
    end,
    minimal,
  };
}
