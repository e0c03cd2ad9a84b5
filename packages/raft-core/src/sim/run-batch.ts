import type { BugName } from "./bugs.js";
import { type SimResult, simulate } from "./simulator.js";

/** Options of a batch of simulations. */
export interface BatchOptions {
  /** The first seed; the batch runs `from`, `from + 1`, ... */
  from: number;
  count: number;
  /** Cluster size; default alternates 3 and 5 members. */
  nodes?: number | undefined;
  /** Steps of each run's faulty phase. Default 1000. */
  steps?: number | undefined;
  /** Stop at the first failure. Default false. */
  stopAtFirstFailure?: boolean | undefined;
  /** Run every simulation with this deliberate bug. */
  bug?: BugName | undefined;
}

/** Runs a batch of seeded simulations and returns the failed ones. */
export function runBatch(options: BatchOptions): { runs: number; failures: SimResult[] } {
  const failures: SimResult[] = [];
  let runs = 0;
  for (let i = 0; i < options.count; i++) {
    const r = simulate({
      seed: (options.from + i) >>> 0,
      nodes: options.nodes ?? (i % 2 === 0 ? 3 : 5),
      steps: options.steps ?? 1000,
      bug: options.bug,
    });
    runs++;
    if (!r.ok) {
      failures.push(r);
      if (options.stopAtFirstFailure === true) break;
    }
  }
  return { runs, failures };
}

/** One line per failure: what broke, where, and the command that replays it. */
export function describeFailures(failures: readonly SimResult[]): string {
  return failures
    .map(
      (r) =>
        `seed ${r.seed} (${r.nodes} nodes), step ${r.failedAtStep}: ${r.violation?.message}\n  replay: ${r.replay}`,
    )
    .join("\n");
}
