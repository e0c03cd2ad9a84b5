/**
 * Starts a throwaway single-member etcd 3.4 (Debian's etcd-server, installed by the root
 * test script's scripts/ensure-system-deps.mjs) on free 127.0.0.1 ports with a temporary
 * data directory, for differential tests. Test-only: not part of the build.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV } from "@raftkv/proto";

export const ETCD_BINARY = "/usr/bin/etcd";

export interface EtcdProcess {
  kv: Client<typeof KV>;
  endpoint: string;
  /** The last lines etcd wrote, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/** Starts etcd and resolves once it answers a range. Throws if the binary is missing. */
export async function startEtcd(): Promise<EtcdProcess> {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(
      `${ETCD_BINARY} is missing: install Debian's etcd-server (node scripts/ensure-system-deps.mjs does it)`,
    );
  }
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  // tmpfs when there is one: etcd syncs its WAL on every write.
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dataDir = mkdtempSync(join(base, "raftkv-mvcc-etcd-"));
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const lines: string[] = [];
  const child: ChildProcess = spawn(
    ETCD_BINARY,
    [
      "--name=diff",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=diff=${peerUrl}`,
      "--log-level=warn",
      "--logger=zap",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const remember = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n"));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on("data", remember);
  child.stderr?.on("data", remember);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (!exited && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      }, 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const transport = createGrpcTransport({ baseUrl: clientUrl });
  const kv = createClient(KV, transport);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`etcd exited during startup:\n${lines.join("\n")}`);
    }
    try {
      await kv.range({ key: new TextEncoder().encode("health") }, { timeoutMs: 2000 });
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`etcd did not become ready: ${String(error)}\n${lines.join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { kv, endpoint: clientUrl, log: () => lines.join("\n"), stop };
}
