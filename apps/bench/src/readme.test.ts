import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

it("the README's library example runs against etcd and verifies its count", {
  timeout: 180_000,
}, () => {
  if (!existsSync(`${packageDir}/dist/index.js`)) {
    throw new Error("dist/ is missing: run `pnpm --filter raftkv-bench build` first");
  }
  const readme = readFileSync(`${packageDir}/README.md`, "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  // Run from the package directory so "raftkv-bench" resolves to this package itself.
  const run = spawnSync(process.execPath, ["--input-type=module"], {
    cwd: packageDir,
    input: example,
    encoding: "utf8",
    timeout: 170_000,
  });
  expect(run.stderr).toBe("");
  expect(run.stdout).toMatch(
    /^\d+ puts\/s, p99 [\d.]+ ms\nverified: revision delta (\d+) = \1 successful puts\n$/,
  );
});
