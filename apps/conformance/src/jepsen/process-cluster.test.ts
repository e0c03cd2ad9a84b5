import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterNotReadyError, DriverError, UsageError } from "../errors.js";
import { createEtcdClient } from "../etcd-client.js";
import type { ClusterDriver } from "./cluster-driver.js";
import { createDriver as createEtcdDriver } from "./etcd-driver.js";
import { findLeader } from "./nemesis.js";
import { createDriver as createRaftkvDriver } from "./raftkv-driver.js";

async function statusCode(endpoint: string, timeoutMs = 1_500): Promise<Code | "ok"> {
  const client = createEtcdClient(endpoint, { timeoutMs });
  try {
    await client.maintenance.status({});
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  } finally {
    client.close();
  }
}

describe("process cluster driver (etcd)", () => {
  let driver: ClusterDriver;
  let baseDir: string;
  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "raftkv-conformance-test-"));
    driver = createEtcdDriver({ members: 3, baseDir: join(baseDir, "cluster") });
    await driver.start();
  });
  afterAll(async () => {
    await driver?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("starts every member on its own loopback port with one leader", async () => {
    const members = driver.members();
    expect(members.map((m) => m.name)).toEqual(["m1", "m2", "m3"]);
    expect(new Set(driver.endpoints()).size).toBe(3);
    expect(await findLeader(members)).toBeDefined();
  });

  it("pause freezes a member until resume; kill stops it until restart", {
    timeout: 120_000,
  }, async () => {
    const [m1] = driver.members();
    await driver.pause(m1!.name);
    // The kernel still accepts connections; nothing answers on them.
    expect(await statusCode(m1!.endpoint)).not.toBe("ok");
    await expect(driver.pause(m1!.name)).rejects.toBeInstanceOf(DriverError);
    await driver.resume(m1!.name);
    expect(await statusCode(m1!.endpoint, 10_000)).toBe("ok");

    await driver.kill(m1!.name);
    expect(await statusCode(m1!.endpoint)).toBe(Code.Unavailable);
    await expect(driver.kill(m1!.name)).rejects.toBeInstanceOf(DriverError);
    await driver.restart(m1!.name);
    expect(await statusCode(m1!.endpoint)).toBe("ok");

    // A graceful restart of a running member, the leader included.
    const leader = await findLeader(driver.members());
    await driver.restart(leader!.name);
    expect(await statusCode(leader!.endpoint)).toBe("ok");
  });

  it("rejects unknown members with a typed error", async () => {
    await expect(driver.kill("m9")).rejects.toBeInstanceOf(DriverError);
  });

  it("keeps each member's log in its directory", () => {
    for (const m of driver.members())
      expect(existsSync(join(baseDir, "cluster", `${m.name}.log`))).toBe(true);
  });
});

describe("process cluster driver: failures", () => {
  it("reports a server command that cannot start, naming the member", async () => {
    const driver = createRaftkvDriver({ members: 1, command: ["/nonexistent/raftkv-server"] });
    await expect(driver.start()).rejects.toThrow(ClusterNotReadyError);
    await driver.stop();
  });

  it("refuses nonsensical sizes and timings", () => {
    expect(() => createEtcdDriver({ members: 0 })).toThrow(UsageError);
    expect(() => createEtcdDriver({ heartbeatIntervalMs: 500, electionTimeoutMs: 100 })).toThrow(
      UsageError,
    );
  });

  it("deletes the temporary directory it created on stop", { timeout: 60_000 }, async () => {
    // os.tmpdir() follows TMPDIR, so the driver's directory lands in one of our own.
    const parent = await mkdtemp(join(tmpdir(), "raftkv-conformance-tmpdir-"));
    const savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = parent;
    try {
      const driver = createEtcdDriver({ members: 1 });
      await driver.start();
      expect(await readdir(parent)).toHaveLength(1);
      const client = createEtcdClient(driver.endpoints()[0]!);
      const status = await client.maintenance.status({});
      client.close();
      expect(status.version).toMatch(/^3\./);
      await driver.stop();
      expect(driver.endpoints()).toEqual([]);
      expect(await readdir(parent)).toEqual([]);
    } finally {
      if (savedTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmpdir;
      await rm(parent, { recursive: true, force: true });
    }
  });
});
