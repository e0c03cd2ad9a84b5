import type { CaseResult } from "./conformance-case.js";

/** Counts of a run. */
export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Counts passed, failed and skipped results. */
export function summarize(results: readonly CaseResult[]): Summary {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const r of results) {
    if (r.outcome.status === "passed") passed++;
    else if (r.outcome.status === "failed") failed++;
    else skipped++;
  }
  return { passed, failed, skipped };
}

/** The final line of every run: `N passed, M failed, K skipped`. */
export function formatSummary(summary: Summary): string {
  return `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`;
}

/** One line per result, as printed while a run progresses. */
export function formatResultLine(result: CaseResult): string {
  const ms = `${Math.round(result.durationMs)} ms`;
  switch (result.outcome.status) {
    case "passed":
      return `ok    ${result.name} (${ms})`;
    case "skipped":
      return `skip  ${result.name}: ${result.outcome.reason}`;
    case "failed":
      return `FAIL  ${result.name} (${ms})\n      checks: ${result.behaviour}\n      ${result.outcome.message}`;
  }
}
