import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "./cpu-profile.js";
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
      { frame: "apply mvcc.js:10", selfMs: 4, selfPercent: 80 },
      { frame: "(idle)", selfMs: 0.5, selfPercent: 10 },
      { frame: "(anonymous)", selfMs: 0.5, selfPercent: 10 },
    ]);
  });

  it("rejects a file that is not a CPU profile", () => {
    const path = join(dir, "b.cpuprofile");
    writeFileSync(path, JSON.stringify({ hello: 1 }));
    expect(() => summarizeCpuProfile(path)).toThrow(InvalidOptionError);
    expect(() => summarizeCpuProfile(join(dir, "missing"))).toThrow(InvalidOptionError);
  });
});
