import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpuDelta, readMachineCpu, readProcessCpuMs, sampleCpu } from "./proc-stat.js";

describe("readProcessCpuMs", () => {
  it("counts the CPU of a process's descendants", { timeout: 60_000 }, async () => {
    // A shell whose child burns CPU: the shell itself stays idle.
    const shell = spawn(
      "/bin/sh",
      [
        "-c",
        `${JSON.stringify(process.execPath)} -e "const t=Date.now(); while(Date.now()-t<1500){}"; sleep 5`,
      ],
      { stdio: "ignore" },
    );
    try {
      const before = sampleCpu([shell.pid as number]);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const used = cpuDelta(before, sampleCpu([shell.pid as number])).get(shell.pid as number);
      // The busy child ran for ~1.5 s of CPU, however busy this machine is it got some.
      expect(used).toBeGreaterThan(100);
    } finally {
      shell.kill("SIGKILL");
    }
  });

  it("is null for a process that does not exist", () => {
    expect(readProcessCpuMs(2 ** 22 + 12_345)).toBeNull();
  });

  it("reads the machine's CPU counters", () => {
    const cpu = readMachineCpu();
    expect(cpu?.totalMs).toBeGreaterThan(cpu?.busyMs ?? Number.POSITIVE_INFINITY);
  });
});
