import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "@raftkv/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRaftkvClient } from "./client.js";
import { EtcdError } from "./errors.js";

const dec = new TextDecoder();

describe("RaftkvClient against etcd 3.4", () => {
  let etcd: ChildProcess;
  let dir: string;
  let endpoint: string;
  let deadEndpoint: string;

  beforeAll(async () => {
    if (!existsSync("/usr/bin/etcd"))
      throw new Error("etcd is missing: run scripts/ensure-system-deps.mjs");
    dir = await mkdtemp(join(tmpdir(), "raftkv-client-"));
    const [client, peer, dead] = await freePorts(3);
    endpoint = `127.0.0.1:${client}`;
    deadEndpoint = `127.0.0.1:${dead}`;
    etcd = spawn(
      "/usr/bin/etcd",
      [
        "--data-dir",
        join(dir, "etcd"),
        "--listen-client-urls",
        `http://${endpoint}`,
        "--advertise-client-urls",
        `http://${endpoint}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${peer}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${peer}`,
        "--initial-cluster",
        `default=http://127.0.0.1:${peer}`,
      ],
      { stdio: "ignore" },
    );
    const probe = createRaftkvClient({ endpoints: [endpoint], timeoutMs: 1_000 });
    for (let i = 0; ; i++) {
      const [status] = await probe.status();
      if (status !== undefined && !(status instanceof EtcdError) && status.leader !== 0n) break;
      if (i > 300) throw new Error("etcd did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    etcd?.kill("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("puts, gets, reads a past revision and deletes", async () => {
    const client = createRaftkvClient({ endpoints: [endpoint] });
    const first = await client.put("/client/k", "v1");
    await client.put("/client/k", "v2");
    expect(dec.decode(await client.get("/client/k"))).toBe("v2");
    expect(dec.decode(await client.get("/client/k", { revision: first }))).toBe("v1");
    expect(dec.decode(await client.get("/client/k", { serializable: true }))).toBe("v2");
    expect(await client.delete("/client/k")).toBe(1);
    expect(await client.get("/client/k")).toBeUndefined();
  });

  it("names etcd's errors with stable codes and says whether a write was applied", async () => {
    const client = createRaftkvClient({ endpoints: [endpoint] });
    const future = await client.get("/client/k", { revision: 1e9 }).catch((e: unknown) => e);
    expect(future).toBeInstanceOf(EtcdError);
    expect(future).toMatchObject({ code: "FUTURE_REVISION", notApplied: true });
    const empty = await client.put("", "x").catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: "EMPTY_KEY", notApplied: true });
  });

  it("moves reads to the next endpoint when one is unreachable, but not writes", async () => {
    const client = createRaftkvClient({ endpoints: [deadEndpoint, endpoint], timeoutMs: 2_000 });
    await createRaftkvClient({ endpoints: [endpoint] }).put("/client/failover", "yes");
    expect(dec.decode(await client.get("/client/failover"))).toBe("yes");
    const writeToDead = createRaftkvClient({ endpoints: [deadEndpoint, endpoint] });
    const error = await writeToDead.put("/client/x", "y").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNAVAILABLE", notApplied: false });
  });

  it("refuses a malformed endpoint", () => {
    expect(() => createRaftkvClient({ endpoints: ["https://x"] })).toThrow(TypeError);
    expect(() => createRaftkvClient({ endpoints: [] })).toThrow(TypeError);
  });
});
