import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("README", () => {
  it("has a first example that runs and prints the delivered heartbeat", async () => {
    const readme = readFileSync(`${packageDir}README.md`, "utf8");
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Inside the package directory, so that the package resolves itself by name.
    const file = `${packageDir}readme-example.test-run.mts`;
    writeFileSync(file, example!);
    try {
      const { stdout } = await promisify(execFile)(`${packageDir}node_modules/.bin/tsx`, [file], {
        cwd: packageDir,
        timeout: 60_000,
      });
      expect(stdout).toMatch(/type: 7/);
      expect(stdout).toMatch(/sentMessages: 1/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
