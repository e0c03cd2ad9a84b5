import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DriverError } from "../errors.js";
import { createDriver as createEtcdDriver } from "./etcd-driver.js";
import { loadDriver } from "./load-driver.js";
import { createDriver as createRaftkvDriver } from "./raftkv-driver.js";

describe("driver loading", () => {
  it("knows etcd and raftkv by name", async () => {
    expect(await loadDriver("etcd")).toBe(createEtcdDriver);
    expect(await loadDriver("raftkv")).toBe(createRaftkvDriver);
  });

  it("imports a driver module by path and rejects one without createDriver", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-conformance-driver-"));
    try {
      const good = join(dir, "good.mjs");
      await writeFile(good, "export function createDriver(options) { return { options }; }\n");
      const bad = join(dir, "bad.mjs");
      await writeFile(bad, "export const nothing = 1;\n");
      const factory = await loadDriver(good);
      expect(await factory({ members: 5 })).toEqual({ options: { members: 5 } });
      await expect(loadDriver(bad)).rejects.toBeInstanceOf(DriverError);
      await expect(loadDriver(join(dir, "missing.mjs"))).rejects.toBeInstanceOf(DriverError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
