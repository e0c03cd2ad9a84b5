import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageOf, summarizeCpuProfile } from "./cpu-profile.js";
import { InvalidOptionError } from "./errors.js";

const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-profile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (id: number, functionName: string, url = "", lineNumber = 0) => ({
  id,
  callFrame: { functionName, url, lineNumber },
});

describe("summarizeCpuProfile", () => {
  it("charges each sample's time to the sampled function and sorts by self time", () => {
    const path = join(dir, "a.cpuprofile");
    writeFileSync(
      path,
      JSON.stringify({
        nodes: [frame(1, "(idle)"), frame(2, "apply", "file:///x/mvcc.js", 9), frame(3, "")],
        samples: [2, 1, 2, 3],
        timeDeltas: [1000, 500, 3000, 500],
      }),
    );
    expect(summarizeCpuProfile(path)).toEqual([
      { frame: "apply mvcc.js:10", selfMs: 4, selfPercent: 80, busyPercent: (100 * 4) / 4.5 },
      { frame: "(idle)", selfMs: 0.5, selfPercent: 10, busyPercent: 0 },
      { frame: "(anonymous)", selfMs: 0.5, selfPercent: 10, busyPercent: (100 * 0.5) / 4.5 },
    ]);
  });

  it("groups self time by package", () => {
    const path = join(dir, "c.cpuprofile");
    writeFileSync(
      path,
      JSON.stringify({
        nodes: [
          frame(1, "(garbage collector)"),
          frame(2, "respond", "node:internal/http2/core"),
          frame(3, "step", "file:///r/packages/raft-core/dist/raft.js"),
          frame(4, "append", "file:///r/packages/raft-core/dist/raft-log.js"),
          frame(5, "fdatasync"),
        ],
        samples: [1, 2, 3, 4, 5],
        timeDeltas: [100, 200, 300, 300, 100],
      }),
    );
    expect(summarizeCpuProfile(path, 10, "package").map((e) => [e.frame, e.selfMs])).toEqual([
      ["@raftkv/raft-core", 0.6],
      ["node:http2", 0.2],
      ["(garbage collector)", 0.1],
      ["(native)", 0.1],
    ]);
  });

  it.each([
    ["node:internal/streams/readable", "node:streams"],
    ["node:events", "node:events"],
    ["file:///r/node_modules/.pnpm/pino@10.4.0/node_modules/pino/lib/tools.js", "pino"],
    [
      "file:///r/node_modules/.pnpm/@bufbuild+protobuf@2.17.0/node_modules/@bufbuild/protobuf/dist/esm/wire/binary-encoding.js",
      "@bufbuild/protobuf",
    ],
    ["file:///r/apps/server/dist/member.js", "apps/server"],
    ["", "(native)"],
  ])("places %s in %s", (url, expected) => {
    expect(packageOf(url)).toBe(expected);
  });

  it("rejects a file that is not a CPU profile", () => {
    const path = join(dir, "b.cpuprofile");
    writeFileSync(path, JSON.stringify({ hello: 1 }));
    expect(() => summarizeCpuProfile(path)).toThrow(InvalidOptionError);
    expect(() => summarizeCpuProfile(join(dir, "missing"))).toThrow(InvalidOptionError);
  });
});
