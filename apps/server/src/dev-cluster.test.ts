import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV } from "@raftkv/proto/etcd";
import { describe, expect, it } from "vitest";
import { planDevCluster } from "./dev-cluster.js";
import { CLI_PATH } from "./test-support/process-cluster.js";

describe("raftkv dev", () => {
  it("plans one member per node with its own ports, data dir and log, all in one initial cluster", () => {
    const members = planDevCluster({
      nodes: 3,
      basePort: 2379,
      host: "127.0.0.1",
      dir: "/tmp/x",
      cliPath: "cli.js",
      extraArgs: ["--log-level", "warn"],
    });
    expect(members.map((m) => [m.name, m.clientUrl, m.peerUrl])).toEqual([
      ["node1", "http://127.0.0.1:2379", "http://127.0.0.1:2380"],
      ["node2", "http://127.0.0.1:2381", "http://127.0.0.1:2382"],
      ["node3", "http://127.0.0.1:2383", "http://127.0.0.1:2384"],
    ]);
    const cluster =
      "node1=http://127.0.0.1:2380,node2=http://127.0.0.1:2382,node3=http://127.0.0.1:2384";
    for (const m of members) {
      expect(m.args).toContain(cluster);
      expect(m.args.slice(-2)).toEqual(["--log-level", "warn"]);
      expect(m.dataDir).toBe(`/tmp/x/${m.name}`);
    }
    expect(() =>
      planDevCluster({ nodes: 0, basePort: 1, host: "h", dir: "d", cliPath: "c", extraArgs: [] }),
    ).toThrow(RangeError);
  });

  it("starts a 3-member cluster that takes writes on every member, and stops every member on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-dev-"));
    const basePort = 40_000 + Math.floor(Math.random() * 20_000);
    const dev = spawn(
      process.execPath,
      [
        CLI_PATH,
        "dev",
        "--nodes",
        "3",
        "--base-port",
        String(basePort),
        "--dir",
        dir,
        "--log-level",
        "warn",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    dev.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    try {
      const pids = (): number[] => [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      for (let i = 0; pids().length < 3 && i < 200; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(
        `etcdctl --endpoints=127.0.0.1:${basePort},127.0.0.1:${basePort + 2},127.0.0.1:${basePort + 4}`,
      );
      for (let i = 0; i < 3; i++) {
        const kv = createClient(
          KV,
          createGrpcTransport({ baseUrl: `http://127.0.0.1:${basePort + 2 * i}` }),
        );
        for (let attempt = 0; ; attempt++) {
          try {
            await kv.put(
              { key: new TextEncoder().encode(`dev${i}`), value: new Uint8Array(1) },
              { timeoutMs: 5_000 },
            );
            break;
          } catch (error) {
            if (attempt > 60) throw error;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      }
      const members = pids();
      const exited = new Promise<number | null>((resolve) =>
        dev.once("exit", (code) => resolve(code)),
      );
      dev.kill("SIGTERM");
      expect(await exited).toBe(0);
      for (const pid of members) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      dev.kill("SIGKILL");
      for (const m of out.matchAll(/pid (\d+)/g)) {
        try {
          process.kill(Number(m[1]), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
