import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

it("the README example runs against the built package and prints the output the README shows", () => {
  if (!existsSync(`${packageDir}/dist/index.js`)) {
    throw new Error("dist/ is missing: run `pnpm --filter @raftkv/mvcc-kv build` first");
  }
  const readme = readFileSync(`${packageDir}/README.md`, "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const output = /Output:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  expect(output).toBeDefined();
  // Run from the package directory so "@raftkv/mvcc-kv" resolves to this package itself.
  const run = spawnSync(process.execPath, ["--input-type=module"], {
    cwd: packageDir,
    input: example,
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe(output);
}, 60_000);
