import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { NativeWalRecovery } from "./native.js";

describe("the rocksdb-native binding", () => {
  it("still numbers point-in-time WAL recovery as wal-rocksdb asks for it", () => {
    const binding = createRequire(import.meta.url)("rocksdb-native") as {
      constants: { walRecoveryMode: { POINT_IN_TIME: number } };
    };
    expect(NativeWalRecovery.PointInTime).toBe(binding.constants.walRecoveryMode.POINT_IN_TIME);
  });
});
