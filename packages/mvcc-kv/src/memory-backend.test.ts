import { describe, expect, it } from "vitest";
import { createMemoryBackend } from "./memory-backend.js";
import { backendSuite } from "./testdata/backend-suite.js";
import { memoryBackendFactory } from "./testdata/backends.js";

backendSuite(memoryBackendFactory);

describe("createMemoryBackend", () => {
  it("leaves the store unchanged when a batch fails half way", async () => {
    const backend = createMemoryBackend();
    await backend.write({
      operations: [{ type: "put", key: Uint8Array.of(1), value: Uint8Array.of(1) }],
    });
    const bad = { type: "put", key: undefined, value: Uint8Array.of(2) } as never;
    await expect(
      backend.write({
        operations: [{ type: "put", key: Uint8Array.of(2), value: Uint8Array.of(2) }, bad],
        appliedIndex: 5,
      }),
    ).rejects.toThrow();
    expect(backend.appliedIndex()).toBe(0);
    expect(await backend.get(Uint8Array.of(2))).toBeUndefined();
  });
});
