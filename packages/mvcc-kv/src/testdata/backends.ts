/**
 * The backends every store-level test runs against. Adding an implementation is one
 * entry here. Test-only: not part of the build.
 */
import type { MvccBackend } from "../backend.js";
import { createMemoryBackend } from "../memory-backend.js";
import type { BackendFactory } from "./backend-suite.js";

export const memoryBackendFactory: BackendFactory = {
  name: "memory",
  create: async () => createMemoryBackend(),
  reopen: async (backend: MvccBackend) => backend,
};

export const backendFactories: BackendFactory[] = [memoryBackendFactory];
