import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runApiSuite } from "./api/api-suite.js";
import { jepsenCaseResults } from "./jepsen/jepsen-report.js";
import { createDriver, defaultRaftkvCli } from "./jepsen/raftkv-driver.js";
import { runJepsen } from "./jepsen/run-jepsen.js";

// The same proofs as against etcd, against raftkv's own server (the root test script
// builds every package first, so its CLI is there).
describe("conformance against raftkv", () => {
  it("finds the raftkv server built", () => {
    expect(existsSync(defaultRaftkvCli), `${defaultRaftkvCli} is missing: build apps/server`).toBe(
      true,
    );
  });

  it("passes every API case (cases of services it does not serve yet are skipped)", {
    timeout: 300_000,
  }, async () => {
    const driver = createDriver({ members: 3 });
    await driver.start();
    try {
      const results = await runApiSuite({ endpoints: driver.endpoints() });
      const failures = results
        .filter((r) => r.outcome.status === "failed")
        .map((r) => `${r.name}: ${r.outcome.status === "failed" ? r.outcome.message : ""}`);
      expect(failures).toEqual([]);
    } finally {
      await driver.stop();
    }
  });

  it("is linearizable under kills, pauses and restarts (short run)", {
    timeout: 300_000,
  }, async () => {
    const run = await runJepsen({
      driver: createDriver({ members: 3 }),
      durationMs: 15_000,
      seed: 20_242,
      checkTimeoutMs: 60_000,
    });
    const problems = jepsenCaseResults(run, true)
      .filter((r) => r.outcome.status !== "passed")
      .map(
        (r) => `${r.name}: ${r.outcome.status === "failed" ? r.outcome.details : r.outcome.status}`,
      );
    expect(problems, `seed ${run.seed}`).toEqual([]);
  });
});
