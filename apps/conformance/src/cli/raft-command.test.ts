import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../jepsen/free-port.js";
import { startToyRaftMember } from "../testdata/toy-raft-member.js";
import { runCli } from "./run-cli.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, last: out.at(-1) ?? "" };
}

describe("raftkv-conformance raft", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "raftkv-conformance-raft-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [["raft"]],
    [["raft", "--driver", "etcd"]],
    [["raft", "--driver", "raftkv", "--target", "127.0.0.1:1"]],
    [["raft", "--driver", "raftkv", "--members", "2"]],
    [["raft", "--driver", "raftkv", "--peers", "p1=127.0.0.1:1"]],
    [["raft", "--driver", "raftkv", "--without", "telepathy"]],
    [["raft", "--driver", "raftkv", "--case", "raft.vote.no-such-case"]],
    [["raft", "--target", "127.0.0.1:1"]],
    [["raft", "--target", "127.0.0.1:1", "--endpoint", "127.0.0.1:2"]],
    [["raft", "--target", "127.0.0.1:1", "--endpoint", "127.0.0.1:2", "--peers", "p1"]],
    [["raft", "--target", "https://127.0.0.1:1", "--endpoint", "127.0.0.1:2", "--peers", "a=b:3"]],
    [["raft", "--target", "127.0.0.1:1", "--endpoint", "127.0.0.1:2", "--members", "3"]],
  ])("exits 2 with a message for bad usage: %j", async (argv) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toMatch(/raftkv-conformance: /);
  });

  it("lists the Raft cases with the rule each checks", async () => {
    const result = await cli("list");
    expect(result.out.join("\n")).toContain("raft.append.mismatch-rejected-with-hint");
  });

  it("runs one case by name on a member it starts, writes JUnit, and ends with the summary line", {
    timeout: 120_000,
  }, async () => {
    const junit = join(dir, "raft.xml");
    const result = await cli(
      "raft",
      "--driver",
      "raftkv",
      "--case",
      "raft.vote.higher-term-granted-once-per-term",
      "--junit",
      junit,
    );
    expect(result.code, result.out.join("\n")).toBe(0);
    expect(result.last).toBe("1 passed, 0 failed, 0 skipped");
    const xml = await readFile(junit, "utf8");
    expect(xml).toContain('tests="1" failures="0"');
    expect(xml).toContain(
      'classname="raftkv-conformance.raft.raft.vote" name="raft.vote.higher-term-granted-once-per-term"',
    );
  });

  it("exits 1 and reports the failure against a member that breaks a rule (--target)", {
    timeout: 120_000,
  }, async () => {
    const ports = await freePorts(2);
    const peers = ports.map((port) => `http://127.0.0.1:${port}`);
    const toy = await startToyRaftMember({ peerUrls: peers, forgetsVotes: true });
    try {
      const junit = join(dir, "toy.xml");
      const result = await cli(
        "raft",
        "--target",
        toy.peerUrl,
        "--endpoint",
        toy.clientEndpoint,
        "--peers",
        peers.map((url, i) => `p${i + 1}=${url}`).join(","),
        "--case",
        "raft.vote.higher-term-granted-once-per-term",
        "--case",
        "raft.vote.persisted-across-restart",
        "--junit",
        junit,
      );
      expect(result.code, result.out.join("\n")).toBe(1);
      expect(result.last).toBe("0 passed, 1 failed, 1 skipped");
      expect(result.out.join("\n")).toContain("FAIL  raft.vote.higher-term-granted-once-per-term");
      const xml = await readFile(junit, "utf8");
      expect(xml).toContain('tests="2" failures="1" errors="0" skipped="1"');
    } finally {
      await toy.close();
    }
  });
});
