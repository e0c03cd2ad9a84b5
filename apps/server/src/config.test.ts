import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("defaults to a one-member cluster on 127.0.0.1:2379 with data in ./raftkv.data", () => {
    const c = loadConfig([], {});
    expect(c.name).toBe("default");
    expect(c.dataDir).toBe("raftkv.data");
    expect(c.listenClientUrls.map((u) => u.origin)).toEqual(["http://127.0.0.1:2379"]);
    expect([...c.initialCluster.keys()]).toEqual(["default"]);
    expect(c.heartbeatIntervalMs).toBe(100);
    expect(c.electionTimeoutMs).toBe(1000);
    expect(c.maxRequestBytes).toBe(1572864);
  });

  it("reads flags in both --flag value and --flag=value forms, over environment and file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-config-"));
    try {
      const file = join(dir, "raftkv.yaml");
      await writeFile(
        file,
        "name: from-file\nheartbeat-interval: 50\nelection-timeout: 500\nsnapshot-count: 7\n",
      );
      const c = loadConfig(["--config-file", file, "--name=from-flag"], {
        RAFTKV_HEARTBEAT_INTERVAL: "20",
      });
      expect(c.name).toBe("from-flag");
      expect(c.heartbeatIntervalMs).toBe(20);
      expect(c.electionTimeoutMs).toBe(500);
      expect(c.snapshotCount).toBe(7);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes TLS between peers from etcd's --peer-* flags when the peer URLs use https", () => {
    const c = loadConfig(
      [
        "--listen-peer-urls",
        "https://127.0.0.1:2380",
        "--peer-cert-file",
        "/c.pem",
        "--peer-key-file",
        "/k.pem",
        "--peer-trusted-ca-file",
        "/ca.pem",
        "--peer-client-cert-auth",
      ],
      {},
    );
    expect(c.peerTls).toEqual({
      certFile: "/c.pem",
      keyFile: "/k.pem",
      caFile: "/ca.pem",
      clientCertAuth: true,
    });
  });

  it("takes TLS on the client port from etcd's --cert-file, --key-file, --trusted-ca-file and --client-cert-auth", () => {
    const c = loadConfig(
      [
        "--listen-client-urls",
        "https://127.0.0.1:2379,http://127.0.0.1:22379",
        "--cert-file",
        "/c.pem",
        "--key-file",
        "/k.pem",
        "--trusted-ca-file",
        "/ca.pem",
        "--client-cert-auth",
      ],
      {},
    );
    expect(c.clientTls).toEqual({
      certFile: "/c.pem",
      keyFile: "/k.pem",
      caFile: "/ca.pem",
      clientCertAuth: true,
    });
    expect(loadConfig([], {}).clientTls).toBeUndefined();
  });

  it("parses an etcd-style --initial-cluster", () => {
    const c = loadConfig(
      [
        "--name",
        "b",
        "--listen-peer-urls",
        "http://127.0.0.1:2480",
        "--initial-cluster",
        "a=http://127.0.0.1:2380,b=http://127.0.0.1:2480,c=http://127.0.0.1:2580",
      ],
      {},
    );
    expect([...c.initialCluster.keys()]).toEqual(["a", "b", "c"]);
  });

  it.each([
    [["--nope"], "nope", "unknown flag"],
    [["--heartbeat-interval", "abc"], "heartbeat-interval", "not a whole number"],
    [["--election-timeout", "200"], "election-timeout", "at least 5 times"],
    [["--listen-client-urls", "127.0.0.1:2379"], "listen-client-urls", "not a URL"],
    [
      ["--listen-client-urls", "https://127.0.0.1:2379"],
      "cert-file",
      "required for https client URLs",
    ],
    [
      ["--listen-client-urls", "https://127.0.0.1:2379", "--cert-file", "/c.pem"],
      "key-file",
      "required for https client URLs",
    ],
    [["--cert-file", "/c.pem"], "cert-file", "no client URL uses https"],
    [
      [
        "--listen-client-urls",
        "https://127.0.0.1:2379",
        "--cert-file",
        "/c.pem",
        "--key-file",
        "/k.pem",
        "--client-cert-auth",
      ],
      "client-cert-auth",
      "needs --trusted-ca-file",
    ],
    [["--listen-client-urls", "http://127.0.0.1"], "listen-client-urls", "must name a port"],
    [
      ["--initial-cluster", "x=http://127.0.0.1:2380"],
      "initial-cluster",
      "does not name this member",
    ],
    [["--initial-cluster-state", "maybe"], "initial-cluster-state", "not one of new, existing"],
    [["--max-request-bytes", "0"], "max-request-bytes", "at least 1"],
    [["--name"], "name", "needs a value"],
    [
      ["--listen-peer-urls", "https://127.0.0.1:2380"],
      "peer-cert-file",
      "required for https peer URLs",
    ],
    [["--peer-cert-file", "/x.pem"], "peer-cert-file", "peer URLs use http"],
    [
      [
        "--listen-peer-urls",
        "https://127.0.0.1:2380",
        "--initial-cluster",
        "default=https://127.0.0.1:2380,b=http://127.0.0.1:2480",
        "--peer-cert-file",
        "c",
        "--peer-key-file",
        "k",
      ],
      "listen-peer-urls",
      "all use https or all use http",
    ],
  ])("refuses %j naming --%s", (argv, flag, message) => {
    const error = configError(argv);
    expect(error.flag).toBe(flag);
    expect(error.message).toContain(`--${flag}`);
    expect(error.message).toContain(message);
  });

  it("names the option in a bad config file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-config-"));
    try {
      const file = join(dir, "bad.yaml");
      await writeFile(file, "data-dirr: /x\n");
      expect(configError(["--config-file", file]).flag).toBe("data-dirr");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
