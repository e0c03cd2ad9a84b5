import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedOperation } from "../jepsen/recorded-operation.js";
import { runCli } from "./run-cli.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, last: out.at(-1) ?? "" };
}

describe("raftkv-conformance CLI", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "raftkv-conformance-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [[]],
    [["frobnicate"]],
    [["api"]],
    [["api", "--endpoints", "a:1", "--driver", "etcd"]],
    [["api", "--endpoints", "a:1", "--max-txn-ops", "lots"]],
    [["api", "--endpoints", "a:1", "--require", "telepathy"]],
    [["api", "--endpoints", "a:1", "--no-such-option"]],
    [["api", "--endpoints", "https://a:1"]],
    [["jepsen"]],
    [["jepsen", "--driver", "etcd", "--faults", "flood"]],
    [["check-history"]],
  ])("exits 2 with a message for bad usage: %j", async (argv) => {
    const result = await cli(...argv);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toMatch(/raftkv-conformance: /);
  });

  it("lists every case with its behaviour", async () => {
    const result = await cli("list");
    expect(result.code).toBe(0);
    expect(result.out.join("\n")).toContain("kv.txn.nested-compares-see-txn-start");
  });

  it("runs selected API cases against a cluster it starts, writes JUnit, and ends with the summary line", {
    timeout: 120_000,
  }, async () => {
    const junit = join(dir, "api.xml");
    const result = await cli(
      "api",
      "--driver",
      "etcd",
      "--case",
      "kv.put.*",
      "--case",
      "maintenance.status.fields",
      "--junit",
      junit,
    );
    expect(result.code, result.out.join("\n")).toBe(0);
    expect(result.last).toMatch(/^12 passed, 0 failed, 0 skipped$/);
    const xml = await readFile(junit, "utf8");
    expect(xml).toContain('tests="12" failures="0"');
    expect(xml).toContain('name="kv.put.prev-kv"');
  });

  it("exits 1 and prints the failing window when a saved history is not linearizable", async () => {
    const op = (
      id: number,
      input: RecordedOperation["input"],
      output: RecordedOperation["output"],
      call: number,
      ret: number,
    ): RecordedOperation => ({
      id,
      clientId: id,
      key: "k",
      endpoint: "e",
      input,
      status: "ok",
      ...(output === undefined ? {} : { output }),
      call,
      return: ret,
    });
    const history = {
      seed: 1,
      keys: ["k"],
      nemesis: [],
      operations: [
        op(0, { kind: "write", value: "a" }, { kind: "write" }, 0, 1),
        op(1, { kind: "write", value: "b" }, { kind: "write" }, 2, 3),
        op(2, { kind: "read" }, { kind: "read", value: "a" }, 4, 5),
      ],
    };
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify(history));
    const result = await cli("check-history", bad);
    expect(result.code).toBe(1);
    expect(result.out.join("\n")).toContain("not-linearizable");
    expect(result.out.join("\n")).toContain('read() -> "a"');
    const good = join(dir, "good.json");
    await writeFile(
      good,
      JSON.stringify({ ...history, operations: history.operations.slice(0, 2) }),
    );
    expect((await cli("check-history", good)).code).toBe(0);
  });

  it("runs a short fault-free jepsen workload end to end", { timeout: 120_000 }, async () => {
    const historyFile = join(dir, "history.json");
    const result = await cli(
      "jepsen",
      "--driver",
      "etcd",
      "--members",
      "1",
      "--duration",
      "3",
      "--keys",
      "2",
      "--faults",
      "none",
      "--seed",
      "7",
      "--history",
      historyFile,
    );
    expect(result.code, result.out.join("\n")).toBe(0);
    expect(result.last).toBe("5 passed, 0 failed, 0 skipped");
    expect(result.out[0]).toContain("seed 7");
    const saved = JSON.parse(await readFile(historyFile, "utf8")) as { operations: unknown[] };
    expect(saved.operations.length).toBeGreaterThan(10);
    expect((await cli("check-history", historyFile)).code).toBe(0);
  });
});
