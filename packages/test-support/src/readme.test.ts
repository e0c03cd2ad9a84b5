import { expect, it } from "vitest";
import { runReadmeExample } from "./readme-example.js";

it("the README example runs against the built package and prints what the README shows", () => {
  const run = runReadmeExample(import.meta.url);
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe(run.expectedOutput);
});
