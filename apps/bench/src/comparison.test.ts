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

/**
 * A stand-in "raftkv" entry that runs etcd with the flags it is given: it exercises the
 * raftkv driver (a Node entry point taking etcd's flags) and the pairing of two servers
 * without the real server, which other tests cover.
 */
function etcdShim(dir: string): string {
  const path = join(dir, "cli.js");
  writeFileSync(
    path,
    [
      'import { spawn } from "node:child_process";',
      'const child = spawn("/usr/bin/etcd", process.argv.slice(2), { stdio: "inherit" });',
      'process.on("SIGTERM", () => child.kill("SIGTERM"));',
      'child.on("exit", (code) => process.exit(code ?? 0));',
    ].join("\n"),
  );
  return path;
}

const tiny = {
  keySpace: 200,
  putConcurrencies: [1, 8],
  rangeConcurrency: 8,
  warmupMs: 200,
  durationMs: 600,
  ceiling: false,
  h2load: false,
} as const;

describe("runComparison", () => {
  // Starts two real 3-member etcd clusters: generous, for a slow, busy machine.
  it("pairs two servers scenario by scenario, verifies every put run and renders the ratios", {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-shim-"));
    try {
      const report = await runComparison({
        ...tiny,
        drivers: [createEtcdDriver(), createRaftkvDriver({ cliPath: etcdShim(dir) })],
      });
      expect(report.order).toBe("paired");
      for (const run of report.servers) {
        expect(run.error).toBeNull();
        expect(run.fill?.verification.exact).toBe(true);
        expect(run.scenarios.map((s) => s.scenario.label)).toEqual([
          "put c=1",
          "put c=8",
          "range (linearizable) c=8",
          "range (serializable) c=8",
        ]);
        for (const s of run.scenarios) {
          expect(s.load.failed).toBe(0);
          expect(s.load.measured).toBeGreaterThan(0);
          expect(s.serverCpuMs).toBeGreaterThanOrEqual(0);
          if (s.scenario.operation === "put") expect(s.verification?.exact).toBe(true);
        }
        expect(run.members).toHaveLength(3);
        expect(run.members.map((m) => m.name)).toContain(run.leader);
      }
      expect(countMismatches(report)).toEqual([]);
      const markdown = renderComparison(report, "pnpm --filter raftkv-bench compare --test");
      expect(markdown).toContain("`pnpm --filter raftkv-bench compare --test`");
      expect(markdown).toMatch(/\| put c=8 +\| +[\d,]+ \|.*\| +[\d.]+× \| +[\d.]+× \|/);
      expect(markdown).toMatch(/Target \(put at concurrency 128.*not measured/);
      expect(markdown).toContain("raftkv put c=8: verified");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs one server at a time in sequential order", { timeout: 180_000 }, async () => {
    const report = await runComparison({
      ...tiny,
      putConcurrencies: [4],
      order: "sequential",
      drivers: [createEtcdDriver()],
    });
    expect(report.order).toBe("sequential");
    expect(report.servers[0]?.error).toBeNull();
    expect(report.servers[0]?.scenarios.map((s) => s.verification?.exact ?? true)).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("reports a server that cannot run as skipped, with the reason, and starts nothing", async () => {
    const report = await runComparison({
      ...tiny,
      drivers: [createRaftkvDriver({ cliPath: join(tmpdir(), "no-such-raftkv", "cli.js") })],
    });
    expect(report.servers[0]?.skipped).toMatch(/does not exist/);
    expect(report.servers[0]?.scenarios).toEqual([]);
    expect(renderComparison(report, "x")).toContain("skipped:");
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
