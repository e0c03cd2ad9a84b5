import { runReadmeExample } from "@raftkv/test-support";
import { expect, it } from "vitest";

it("the README example runs against the built package and prints what the README shows", () => {
  const run = runReadmeExample(import.meta.url);
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe(run.expectedOutput);
});
