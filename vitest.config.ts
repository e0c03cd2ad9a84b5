import { defineConfig } from "vitest/config";

// Each package's vitest.config.ts is one line over vitest.shared.ts (timeouts and name).
export default defineConfig({ test: { projects: ["packages/*", "apps/*"] } });
