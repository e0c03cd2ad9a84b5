import { defineProject } from "vitest/config";

// Generous timeouts: tests must pass on a slow, busy 2-core machine (as the root config says).
export default defineProject({ test: { name: "@raftkv/raft-core", testTimeout: 60_000 } });
