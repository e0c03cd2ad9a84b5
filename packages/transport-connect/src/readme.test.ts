import { runReadmeExample } from "@raftkv/test-support";
import { describe, expect, it } from "vitest";

describe("README", () => {
  it("has a first example that runs and prints the delivered heartbeat", () => {
    const run = runReadmeExample(import.meta.url, { typescript: true });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/type: 7/);
    expect(run.stdout).toMatch(/sentMessages: 1/);
  });
});
