import { illegal, type Model } from "./model.js";
import type { Operation } from "./operation.js";

/** Limits of one search. Both bound the work; reaching either gives "unknown". */
export interface SearchLimits {
  /** `performance.now()` value after which the search gives up. */
  readonly deadline: number;
  /** Upper bound on the memo table's estimated size in bytes. */
  readonly maxMemoBytes: number;
  /**
   * Keep each memoized set as a full bitset, so two sets are equal only if they are.
   * Otherwise only their 64-bit hash is kept: memory per entry no longer grows with the
   * history, at a chance of about n²/2^65 that two of n sets collide, which can only
   * prune a branch (never invent a linearization). So "linearizable" from a hashed
   * search is exact, and "not-linearizable" must be confirmed by an exact one.
   */
  readonly exactMemo: boolean;
}

/** The outcome of one search over one history. */
export type SearchResult =
  | { readonly verdict: "linearizable"; readonly steps: number }
  | {
      readonly verdict: "not-linearizable";
      readonly steps: number;
      /** Most operations any explored linearization managed to order. */
      readonly longestPrefix: number;
    }
  | { readonly verdict: "unknown"; readonly reason: "timeout" | "memory"; readonly steps: number };

// How often (in search steps) the clock is read: often enough to stop within a few
// milliseconds of the deadline, rarely enough not to cost measurable time.
const CLOCK_CHECK_INTERVAL = 512;
// Estimated bytes of one memo entry besides its bitset: the Map slot, the key string,
// the array holding it.
const MEMO_ENTRY_OVERHEAD_BYTES = 96;
// The memo value of a hashed (inexact) entry: presence is all that is recorded.
const NO_BITS: Uint32Array[] = [];

/**
 * Decides whether `operations` are linearizable with respect to `model`, starting from
 * `initial`: Lowe's just-in-time version of the Wing & Gong search, with Porcupine's
 * memoization of (set of linearized operations, model state), so that no configuration
 * is explored twice. Sets are bitsets identified by a Zobrist hash (64 bits from two
 * 32-bit halves); collisions are resolved by comparing the bitsets.
 *
 * Operations with an unknown outcome (`return: Infinity`) may be linearized anywhere
 * after their call; placing them after everything else stands for "never took effect".
 * Within a run of invocations, those are tried last, which on healthy histories avoids
 * most of the backtracking they would otherwise cause.
 *
 * Never throws for well-formed input; gives up with `unknown` at `limits.deadline` or
 * when the memo table would exceed `limits.maxMemoBytes`.
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  initial: S,
  limits: SearchLimits,
): SearchResult {
  const n = operations.length;
  if (n === 0) return { verdict: "linearizable", steps: 0 };

  // Entries 0..n-1 are invocations, n..2n-1 the matching responses; 2n is the list head.
  const head = 2 * n;
  const order = buildEntryOrder(operations);
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = head;
  for (const entry of order) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  next[last] = -1;
  prev[head] = -1;

  const lift = (call: number): void => {
    const ret = call + n;
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret]! !== -1) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = call + n;
    next[prev[ret]!] = ret;
    if (next[ret]! !== -1) prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const zobristLo = new Uint32Array(n);
  const zobristHi = new Uint32Array(n);
  let seed = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    seed = xorshift32(seed);
    zobristLo[i] = seed;
    seed = xorshift32(seed);
    zobristHi[i] = seed;
  }
  let hashLo = 0;
  let hashHi = 0;

  const memo = new Map<string, Uint32Array[]>();
  const memoEntryBytes = (limits.exactMemo ? words * 4 : 0) + MEMO_ENTRY_OVERHEAD_BYTES;
  let memoBytes = 0;

  // The stack of linearized operations, with the state before each.
  const stackOps: number[] = [];
  const stackStates: S[] = [];

  let state = initial;
  let entry = next[head]!;
  let steps = 0;
  let longestPrefix = 0;

  while (next[head]! !== -1) {
    steps++;
    if (steps % CLOCK_CHECK_INTERVAL === 0 && performance.now() > limits.deadline) {
      return { verdict: "unknown", reason: "timeout", steps };
    }
    if (entry < n) {
      const op = operations[entry]!;
      const after = model.step(state, op.input, op.output);
      let advanced = false;
      if (after !== illegal) {
        const bit = 1 << (entry & 31);
        const word = entry >>> 5;
        linearized[word] = linearized[word]! | bit;
        const lo = (hashLo ^ zobristLo[entry]!) >>> 0;
        const hi = (hashHi ^ zobristHi[entry]!) >>> 0;
        const key = `${lo.toString(36)}.${hi.toString(36)}|${model.key(after)}`;
        const seen = memo.get(key);
        const visited =
          seen !== undefined &&
          (!limits.exactMemo || seen.some((bits) => sameBits(bits, linearized)));
        if (!visited) {
          memoBytes += memoEntryBytes;
          if (memoBytes > limits.maxMemoBytes) {
            return { verdict: "unknown", reason: "memory", steps };
          }
          if (!limits.exactMemo) memo.set(key, NO_BITS);
          else if (seen === undefined) memo.set(key, [linearized.slice()]);
          else seen.push(linearized.slice());
          stackOps.push(entry);
          stackStates.push(state);
          state = after;
          hashLo = lo;
          hashHi = hi;
          lift(entry);
          if (stackOps.length > longestPrefix) longestPrefix = stackOps.length;
          entry = next[head]!;
          advanced = true;
        } else {
          linearized[word] = linearized[word]! & ~bit;
        }
      }
      if (!advanced) entry = next[entry]!;
    } else {
      // A response whose operation is not linearized yet: nothing invoked after it can
      // go first, so undo the most recent choice and try the next candidate.
      const undone = stackOps.pop();
      if (undone === undefined) {
        return { verdict: "not-linearizable", steps, longestPrefix };
      }
      state = stackStates.pop()!;
      linearized[undone >>> 5] = linearized[undone >>> 5]! & ~(1 << (undone & 31));
      hashLo = (hashLo ^ zobristLo[undone]!) >>> 0;
      hashHi = (hashHi ^ zobristHi[undone]!) >>> 0;
      unlift(undone);
      entry = next[undone]!;
    }
  }
  return { verdict: "linearizable", steps };
}

/**
 * Invocations and responses in time order (invocations first on ties: an operation that
 * starts exactly when another ends may go either way). Within each run of consecutive
 * invocations, those with unknown outcomes go last; the order inside a run does not
 * change which linearizations exist, only which one is tried first.
 */
function buildEntryOrder(operations: readonly Operation<unknown, unknown>[]): number[] {
  const n = operations.length;
  const entries: number[] = [];
  for (let i = 0; i < n; i++) entries.push(i, i + n);
  const time = (e: number): number => (e < n ? operations[e]!.call : operations[e - n]!.return);
  entries.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const aCall = a < n;
    const bCall = b < n;
    if (aCall !== bCall) return aCall ? -1 : 1;
    return a - b;
  });
  const ordered: number[] = [];
  let run: number[] = [];
  let unknownRun: number[] = [];
  const flush = (): void => {
    ordered.push(...run, ...unknownRun);
    run = [];
    unknownRun = [];
  };
  for (const e of entries) {
    if (e < n) {
      if (operations[e]!.output === undefined) unknownRun.push(e);
      else run.push(e);
    } else {
      flush();
      ordered.push(e);
    }
  }
  flush();
  return ordered;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
