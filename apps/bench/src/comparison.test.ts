import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEtcdDriver, createRaftkvDriver } from "./cluster-driver.js";
import { runComparison } from "./comparison.js";
import {
  countMismatches,
  renderComparison,
  SECTION_BEGIN,
  writeSection,
} from "./markdown-report.js";

describe("runComparison", () => {
  // Starts a real 3-member etcd cluster: generous, for a slow, busy machine.
  it("runs the matrix on a 3-member etcd cluster, verifies every put run and renders the table", {
    timeout: 180_000,
  }, async () => {
    const report = await runComparison({
      drivers: [
        createEtcdDriver(),
        createRaftkvDriver({ cliPath: join(tmpdir(), "no-such-raftkv", "cli.js") }),
      ],
      keySpace: 200,
      putConcurrencies: [1, 8],
      rangeConcurrency: 8,
      warmupMs: 200,
      durationMs: 600,
      ceiling: false,
      h2load: false,
    });
    const [etcd, raftkv] = report.servers;
    expect(etcd?.error).toBeNull();
    expect(etcd?.fill?.verification.exact).toBe(true);
    expect(etcd?.scenarios.map((s) => s.scenario.label)).toEqual([
      "put c=1",
      "put c=8",
      "range (linearizable) c=8",
      "range (serializable) c=8",
    ]);
    for (const s of etcd?.scenarios ?? []) {
      expect(s.load.failed).toBe(0);
      expect(s.load.measured).toBeGreaterThan(0);
      expect(s.serverCpuMs).toBeGreaterThanOrEqual(0);
      if (s.scenario.operation === "put") expect(s.verification?.exact).toBe(true);
    }
    expect(raftkv?.skipped).toMatch(/does not exist/);
    expect(countMismatches(report)).toEqual([]);

    const markdown = renderComparison(report, "pnpm --filter raftkv-bench compare --test");
    expect(markdown).toContain("`pnpm --filter raftkv-bench compare --test`");
    expect(markdown).toMatch(/\| put c=8 +\| +[\d,]+ \|/);
    expect(markdown).toContain("not measured");
    expect(markdown).toContain("etcd put c=8: verified");
  });
});

describe("writeSection", () => {
  it("appends the section once, then replaces only its own content on reruns", () => {
    const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-docs-"));
    const path = join(dir, "benchmarks.md");
    try {
      writeSection(path, "first run");
      const afterFirst = readFileSync(path, "utf8");
      expect(afterFirst).toContain("first run");
      // Someone else's section after ours must survive.
      writeSection(path, "second run");
      const withOther = `${readFileSync(path, "utf8")}\n## Other package\n\nkeep me\n`;
      writeFileSync(path, withOther);
      writeSection(path, "third run");
      const final = readFileSync(path, "utf8");
      expect(final.split(SECTION_BEGIN).length).toBe(2);
      expect(final).toContain("third run");
      expect(final).not.toContain("second run");
      expect(final).toContain("keep me");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
