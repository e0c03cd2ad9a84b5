import { describe, expect, it } from "vitest";
import { describeFailures, runBatch } from "./run-batch.js";

describe("the simulation checker", () => {
  it("catches a voter that grants two votes in one term, and prints a command that replays it", () => {
    const { failures } = runBatch({
      from: 1,
      count: 200,
      stopAtFirstFailure: true,
      bug: "double-vote",
    });
    expect(failures.length).toBe(1);
    const f = failures[0]!;
    expect(f.violation?.invariant).toBe("election-safety");
    expect(f.replay).toMatch(
      /^pnpm --filter @raftkv\/raft-core sim --seed \d+ --nodes [35] --steps \d+ --bug double-vote$/,
    );
    expect(describeFailures(failures)).toContain(`replay: ${f.replay}`);
    // The command replays the run exactly: the same seed fails the same way at the same step.
    const again = runBatch({ from: f.seed, count: 1, nodes: f.nodes, bug: "double-vote" });
    expect(again.failures[0]?.violation?.message).toBe(f.violation?.message);
    expect(again.failures[0]?.failedAtStep).toBe(f.failedAtStep);
  });

  it("passes the same seed once the bug is removed", () => {
    const bugged = runBatch({
      from: 1,
      count: 200,
      stopAtFirstFailure: true,
      bug: "double-vote",
    }).failures[0]!;
    const { failures } = runBatch({ from: bugged.seed, count: 1, nodes: bugged.nodes });
    expect(describeFailures(failures)).toBe("");
  });
});
