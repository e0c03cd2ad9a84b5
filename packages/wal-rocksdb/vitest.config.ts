import { defineProject } from "vitest/config";

// Generous limits: tests must pass on a slow, busy 2-core machine, also when run from here.
export default defineProject({
  test: { name: "@raftkv/wal-rocksdb", testTimeout: 60_000, hookTimeout: 120_000 },
});
