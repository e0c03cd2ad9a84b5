import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    // Tests must pass on a slow, busy 2-core machine: generous timeouts, no timing asserts.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
