import { Code, ConnectError } from "@connectrpc/connect";
import { CaseTimeoutError, ConformanceAssertionError } from "../errors.js";
import {
  type CaseOutcome,
  type CaseResult,
  type ConformanceCase,
  type Feature,
  groupOf,
} from "./conformance-case.js";
import { describeStatus } from "./expect.js";

/** Options of `runCases`. */
export interface RunOptions<Context> {
  /** Builds the context of one case; `signal` aborts when the case times out. */
  createContext(
    testCase: ConformanceCase<Context>,
    signal: AbortSignal,
  ): Context | Promise<Context>;
  /** Releases what `createContext` built; errors are reported as the case's failure. */
  disposeContext?(context: Context): void | Promise<void>;
  /**
   * Features whose UNIMPLEMENTED answers fail a case instead of skipping it.
   * Default: kv and maintenance, the core every etcd compatible server must have.
   */
  readonly requiredFeatures?: readonly Feature[];
  /** Time limit of one case. Default 60 000 ms. */
  readonly caseTimeoutMs?: number;
  /** Called after each case, for progress output. */
  onResult?(result: CaseResult): void;
}

const DEFAULT_REQUIRED: readonly Feature[] = ["kv", "maintenance"];

/**
 * Runs cases one after another (they share one server, and some, like compaction, touch
 * global state) and reports each as passed, failed or skipped. Never throws for a
 * case's failure: every error becomes a failed outcome with its message.
 */
export async function runCases<Context>(
  cases: readonly ConformanceCase<Context>[],
  options: RunOptions<Context>,
): Promise<CaseResult[]> {
  const required = new Set(options.requiredFeatures ?? DEFAULT_REQUIRED);
  const timeoutMs = options.caseTimeoutMs ?? 60_000;
  const results: CaseResult[] = [];
  for (const testCase of cases) {
    const started = performance.now();
    const outcome = await runOne(testCase, options, required.has(testCase.feature), timeoutMs);
    const result: CaseResult = {
      name: testCase.name,
      group: groupOf(testCase.name),
      behaviour: testCase.behaviour,
      reference: testCase.reference,
      durationMs: performance.now() - started,
      outcome,
    };
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

async function runOne<Context>(
  testCase: ConformanceCase<Context>,
  options: RunOptions<Context>,
  required: boolean,
  timeoutMs: number,
): Promise<CaseOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CaseTimeoutError(`case did not finish within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  let context: Context | undefined;
  try {
    context = await Promise.race([options.createContext(testCase, controller.signal), timeout]);
    await Promise.race([testCase.run(context), timeout]);
    return { status: "passed" };
  } catch (error) {
    return outcomeOf(error, required);
  } finally {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort();
    if (context !== undefined && options.disposeContext !== undefined) {
      try {
        await options.disposeContext(context);
      } catch {
        // Cleanup is best effort: the case's own verdict is what the report is about.
      }
    }
  }
}

function outcomeOf(error: unknown, required: boolean): CaseOutcome {
  if (error instanceof ConformanceAssertionError || error instanceof CaseTimeoutError) {
    return { status: "failed", message: error.message, details: detailsOf(error) };
  }
  if (error instanceof ConnectError) {
    if (error.code === Code.Unimplemented && !required) {
      return { status: "skipped", reason: `server does not implement it: ${error.rawMessage}` };
    }
    return {
      status: "failed",
      message: `unexpected ${describeStatus(error.code, error.rawMessage)}`,
      details: detailsOf(error),
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { status: "failed", message: `unexpected error: ${message}`, details: detailsOf(error) };
}

function detailsOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const lines = [error.stack ?? `${error.name}: ${error.message}`];
  let cause = error.cause;
  while (cause !== undefined) {
    lines.push(
      `caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
    );
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.join("\n");
}
