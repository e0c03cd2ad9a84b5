import { afterEach, describe, expect, it } from "vitest";
import { injectBug } from "./bugs.js";
import { describeFailures, runBatch } from "./run-batch.js";

describe("the simulation checker", () => {
  let undo: (() => void) | undefined;
  afterEach(() => {
    undo?.();
    undo = undefined;
  });

  it("catches a voter that grants two votes in one term, and prints a replayable seed", () => {
    undo = injectBug("double-vote");
    const { failures } = runBatch({ from: 1, count: 200, stopAtFirstFailure: true });
    expect(failures.length).toBe(1);
    const f = failures[0]!;
    expect(f.violation?.invariant).toBe("election-safety");
    expect(f.replay).toMatch(
      /^pnpm --filter @raftkv\/raft-core sim --seed \d+ --nodes [35] --steps \d+$/,
    );
    expect(describeFailures(failures)).toContain(
      "replay: pnpm --filter @raftkv/raft-core sim --seed",
    );
  });

  it("passes the same seeds once the bug is removed", () => {
    const bugged = (() => {
      const u = injectBug("double-vote");
      try {
        return runBatch({ from: 1, count: 200, stopAtFirstFailure: true }).failures[0]!;
      } finally {
        u();
      }
    })();
    const { failures } = runBatch({ from: bugged.seed, count: 1, nodes: bugged.nodes });
    expect(describeFailures(failures)).toBe("");
  });
});
