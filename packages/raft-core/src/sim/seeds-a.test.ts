import { expect, it } from "vitest";
import { describeFailures, runBatch } from "./run-batch.js";

// One of four files of 500 seeded runs each (2,000 in all, 3 and 5 members alternating),
// split so that vitest runs them in parallel. SIM_SEED_OFFSET shifts the seeds to explore
// new schedules; a failure prints the command that replays it.
const offset = Number(process.env.SIM_SEED_OFFSET ?? 0);

it("keeps every safety property and recovers after healing, seeds 1..500", () => {
  const { runs, failures } = runBatch({ from: 1 + offset, count: 500 });
  expect(runs).toBe(500);
  if (failures.length > 0) process.stdout.write(`${describeFailures(failures)}\n`);
  expect(describeFailures(failures)).toBe("");
}, 600_000);
