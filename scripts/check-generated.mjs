#!/usr/bin/env node
// Fails when the committed generated code (packages/proto/src/gen) is not what proto/
// generates, or when proto/ breaks buf lint. Generation goes to a temporary directory,
// so the working tree is never modified and the answer does not depend on git state.
// Run from anywhere: `node scripts/check-generated.mjs`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const genDir = join("packages", "proto", "src", "gen");
// buf and protoc-gen-es are devDependencies of @raftkv/proto; buf finds the plugin on PATH.
const toolBin = join(root, "packages", "proto", "node_modules", ".bin");

if (!existsSync(join(toolBin, "buf")) || !existsSync(join(toolBin, "protoc-gen-es"))) {
  fail(`buf or protoc-gen-es is missing from ${toolBin}; run \`pnpm install\` first.`);
}
const env = { ...process.env, PATH: `${toolBin}${delimiter}${process.env.PATH ?? ""}` };

function fail(message) {
  process.stderr.write(`check-generated: ${message}\n`);
  process.exit(1);
}

function buf(args) {
  return spawnSync("buf", args, { cwd: root, env, encoding: "utf8" });
}

/** Every file under dir, as paths relative to dir with forward slashes. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
}

const lint = buf(["lint"]);
if (lint.status !== 0) {
  fail(`buf lint failed:\n${lint.stdout}${lint.stderr}`);
}

const scratch = mkdtempSync(join(tmpdir(), "raftkv-check-generated-"));
let problem;
try {
  problem = compareWithFreshGeneration(scratch);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (problem !== undefined) fail(problem);

/** Generates into scratch and returns what disagrees with the committed code, if anything. */
function compareWithFreshGeneration(scratch) {
  // -o prefixes every plugin's out directory, so buf.gen.yaml stays the only template.
  const generate = buf(["generate", "-o", scratch]);
  if (generate.status !== 0) {
    return `buf generate failed:\n${generate.stdout}${generate.stderr}`;
  }
  const fresh = join(scratch, genDir);
  const committed = join(root, genDir);
  const freshFiles = listFiles(fresh);
  const committedFiles = listFiles(committed);

  const stale = [];
  for (const file of freshFiles) {
    if (!committedFiles.includes(file)) {
      stale.push(`${genDir}/${file} (missing)`);
    } else if (!readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file)))) {
      stale.push(`${genDir}/${file} (differs)`);
    }
  }
  for (const file of committedFiles) {
    if (!freshFiles.includes(file)) stale.push(`${genDir}/${file} (no longer generated)`);
  }
  if (stale.length > 0) {
    return `generated code is stale; run \`pnpm generate\` and commit the result:\n  ${stale.join("\n  ")}`;
  }
  process.stdout.write(
    `check-generated: buf lint passed; ${freshFiles.length} generated files up to date\n`,
  );
  return undefined;
}
