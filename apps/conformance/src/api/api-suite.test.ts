import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterNotReadyError, UsageError } from "../errors.js";
import type { CaseResult } from "../harness/conformance-case.js";
import type { ClusterDriver } from "../jepsen/cluster-driver.js";
import { createDriver } from "../jepsen/etcd-driver.js";
import { apiCases, runApiSuite } from "./api-suite.js";

// The suite's proof of honesty: every case passes against etcd 3.4 (installed by the
// root test script, scripts/ensure-system-deps.mjs), here a three-member cluster on
// free loopback ports in a temporary directory.
describe("API conformance against etcd 3.4", () => {
  let driver: ClusterDriver;
  beforeAll(async () => {
    driver = createDriver({ members: 3 });
    await driver.start();
  });
  afterAll(async () => {
    await driver?.stop();
  });

  it("passes every case", { timeout: 300_000 }, async () => {
    const results = await runApiSuite({ endpoints: driver.endpoints() });
    const failures = results
      .filter((r: CaseResult) => r.outcome.status !== "passed")
      .map(
        (r) => `${r.name}: ${r.outcome.status === "failed" ? r.outcome.message : r.outcome.status}`,
      );
    expect(failures).toEqual([]);
    expect(results).toHaveLength(apiCases.length);
  });

  it("has unique case names, each naming its behaviour and reference", () => {
    const names = apiCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of apiCases) {
      expect(c.name).toMatch(/^[a-z]+(\.[a-z0-9-]+)+$/);
      expect(c.behaviour.length).toBeGreaterThan(20);
      expect(c.reference.length).toBeGreaterThan(3);
    }
  });

  it("fails with a clear error, before any case, when an endpoint does not answer", async () => {
    const [dead] = await import("../jepsen/free-port.js").then((m) => m.freePorts(1));
    await expect(runApiSuite({ endpoints: [`127.0.0.1:${dead}`] })).rejects.toBeInstanceOf(
      ClusterNotReadyError,
    );
    await expect(runApiSuite({ endpoints: [] })).rejects.toBeInstanceOf(UsageError);
  });
});
