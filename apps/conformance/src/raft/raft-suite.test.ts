import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CaseResult } from "../harness/conformance-case.js";
import { freePorts } from "../jepsen/free-port.js";
import { defaultRaftkvCli } from "../jepsen/raftkv-driver.js";
import { launchNode } from "./node-under-test.js";
import { raftCases, runRaftSuite } from "./raft-suite.js";

const notPassed = (results: readonly CaseResult[]) =>
  results
    .filter((r) => r.outcome.status !== "passed")
    .map((r) =>
      r.outcome.status === "failed"
        ? `${r.name}: ${r.outcome.message}`
        : `${r.name}: skipped (${r.outcome.status === "skipped" ? r.outcome.reason : ""})`,
    );

// The root test script builds every package first, so the server's CLI is there; a
// missing build is a failure, not a reason to skip.
describe("Raft peer conformance against raftkv", () => {
  it("finds the raftkv server built", () => {
    expect(existsSync(defaultRaftkvCli), `${defaultRaftkvCli} is missing: build apps/server`).toBe(
      true,
    );
  });

  it("passes every case, each on a fresh member the suite starts among fake peers", {
    timeout: 600_000,
  }, async () => {
    const results = await runRaftSuite({ mode: { kind: "launch" } });
    expect(results.map((r) => r.name)).toEqual(raftCases.map((c) => c.name));
    expect(notPassed(results)).toEqual([]);
  });

  it("passes every case that needs no restart on one member the operator started (--target)", {
    timeout: 600_000,
  }, async () => {
    const ports = await freePorts(2);
    const peers = ports.map((port, i) => ({ name: `p${i + 1}`, url: `http://127.0.0.1:${port}` }));
    const baseDir = await mkdtemp(join(tmpdir(), "raft-target-"));
    const node = await launchNode({
      fakeMembers: peers,
      baseDir,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1_000,
    });
    try {
      const results = await runRaftSuite({
        mode: { kind: "target", peerUrl: node.peerUrl, clientEndpoint: node.clientEndpoint, peers },
      });
      const restartCases = raftCases
        .filter((c) => c.requires?.includes("restart"))
        .map((c) => c.name);
      expect(notPassed(results).filter((line) => !line.includes("skipped"))).toEqual([]);
      expect(results.filter((r) => r.outcome.status === "skipped").map((r) => r.name)).toEqual(
        restartCases,
      );
    } finally {
      await node.close();
      await rm(baseDir, { recursive: true, force: true });
    }
  });
});
