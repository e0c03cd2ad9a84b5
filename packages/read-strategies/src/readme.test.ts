import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

it("the README example runs against the built package and prints what the README shows", () => {
  if (!existsSync(`${packageDir}/dist/index.js`)) {
    throw new Error("dist/ is missing: run `pnpm --filter @raftkv/read-strategies build` first");
  }
  const readme = readFileSync(`${packageDir}/README.md`, "utf8");
  const example = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const output = /Output:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  expect(output).toBeDefined();
  // From the package directory "@raftkv/read-strategies" resolves to this package itself.
  const run = spawnSync(process.execPath, ["--input-type=module"], {
    cwd: packageDir,
    input: example,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe(output);
});
