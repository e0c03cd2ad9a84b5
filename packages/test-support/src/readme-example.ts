import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ReadmeExampleOptions {
  /** Take the first ```ts block after this heading (e.g. "## Example"); default: the first one. */
  afterHeading?: string;
  /** A file the example needs built first, relative to the package (default dist/index.js). */
  requires?: string;
  /** Run with tsx instead of node, for examples with TypeScript syntax. */
  typescript?: boolean;
  /** Milliseconds before the run is killed. Default 60,000. */
  timeoutMs?: number;
}

export interface ReadmeExampleRun {
  stdout: string;
  stderr: string;
  status: number | null;
  /** The ```text block after "Output:" in the README, if it has one. */
  expectedOutput: string | undefined;
}

/**
 * Runs a package's README example as a user would: from the package directory, where
 * the package resolves itself by name through its own `exports`. `testFileUrl` is the
 * calling test's `import.meta.url` (a file in the package's `src/`). Throws a clear
 * error when the README has no example or the package is not built.
 */
export function runReadmeExample(
  testFileUrl: string,
  options: ReadmeExampleOptions = {},
): ReadmeExampleRun {
  const packageDir = join(dirname(fileURLToPath(testFileUrl)), "..");
  const required = join(packageDir, options.requires ?? "dist/index.js");
  if (!existsSync(required)) throw new Error(`${required} is missing: build the package first`);
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const from = options.afterHeading === undefined ? 0 : readme.indexOf(options.afterHeading);
  if (from < 0) throw new Error(`README.md has no heading "${options.afterHeading}"`);
  const example = /```ts\n([\s\S]*?)```/.exec(readme.slice(from))?.[1];
  if (example === undefined) throw new Error("README.md has no ```ts example");
  const expectedOutput = /Output:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  const timeout = options.timeoutMs ?? 60_000;
  if (!options.typescript) {
    const run = spawnSync(process.execPath, ["--input-type=module"], {
      cwd: packageDir,
      input: example,
      encoding: "utf8",
      timeout,
    });
    return { stdout: run.stdout, stderr: run.stderr, status: run.status, expectedOutput };
  }
  // tsx transforms files, not stdin: the example goes to a file in the package directory
  // (so the package still resolves itself by name) for the length of the run.
  const file = join(packageDir, `.readme-example-${process.pid}.mts`);
  writeFileSync(file, example);
  try {
    const run = spawnSync(join(packageDir, "node_modules", ".bin", "tsx"), [file], {
      cwd: packageDir,
      encoding: "utf8",
      timeout,
    });
    return { stdout: run.stdout, stderr: run.stderr, status: run.status, expectedOutput };
  } finally {
    rmSync(file, { force: true });
  }
}
