import { runReadmeExample } from "@raftkv/test-support";
import { expect, it } from "vitest";

it("the README's library example runs against etcd and verifies its count", {
  timeout: 180_000,
}, () => {
  const run = runReadmeExample(import.meta.url, { timeoutMs: 170_000 });
  expect(run.stderr).toBe("");
  expect(run.stdout).toMatch(
    /^\d+ puts\/s, p99 [\d.]+ ms\nverified: revision delta (\d+) = \1 successful puts\n$/,
  );
});
