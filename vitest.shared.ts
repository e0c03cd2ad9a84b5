import { defineProject, type UserWorkspaceConfig } from "vitest/config";

/**
 * The one vitest project definition every package uses, so that running a package's
 * tests alone behaves like the root run. Tests must pass on a slow, busy 2-core machine:
 * generous timeouts, and no test asserts on elapsed time.
 */
export function raftkvProject(name: string): UserWorkspaceConfig {
  return defineProject({ test: { name, testTimeout: 60_000, hookTimeout: 120_000 } });
}
