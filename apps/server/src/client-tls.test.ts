import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:https";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV } from "@raftkv/proto/etcd";
import { createTestCertificates, freePorts, type TestCertificates } from "@raftkv/test-support";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { RaftKvMember } from "./member.js";

const ETCDCTL = "/usr/bin/etcdctl";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs etcdctl without blocking: the member under test serves from this process. */
function etcdctl(
  endpoint: string,
  args: string[],
  dialTimeout = "3s",
): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      ETCDCTL,
      ["--endpoints", endpoint, "--dial-timeout", dialTimeout, ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, encoding: "utf8", timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ status, out: `${stdout}${stderr}` });
      },
    );
  });
}

/** GET over HTTPS/1.1 (ALPN http/1.1); resolves with the status code. */
function httpsGet(url: string, certs: TestCertificates, withClientCert: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: readFileSync(certs.caFile),
        ...(withClientCert
          ? { cert: readFileSync(certs.memberCert), key: readFileSync(certs.memberKey) }
          : {}),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("a member serving clients over TLS with client certificates (etcd's --cert-file, --client-cert-auth)", () => {
  let certs: TestCertificates;
  let dir: string;
  let member: RaftKvMember;
  let httpsUrl: string;
  let endpoint: string;
  beforeAll(async () => {
    certs = createTestCertificates();
    dir = await mkdtemp(join(tmpdir(), "raftkv-client-tls-"));
    const [client, peer] = await freePorts(2);
    endpoint = `127.0.0.1:${client}`;
    httpsUrl = `https://${endpoint}`;
    const config = loadConfig(
      [
        "--data-dir",
        join(dir, "data"),
        "--listen-client-urls",
        httpsUrl,
        "--listen-peer-urls",
        `http://127.0.0.1:${peer}`,
        "--cert-file",
        certs.memberCert,
        "--key-file",
        certs.memberKey,
        "--trusted-ca-file",
        certs.caFile,
        "--client-cert-auth",
      ],
      {},
    );
    member = await RaftKvMember.start(config, pino({ level: "silent" }));
  });
  afterAll(async () => {
    await member?.close();
    await rm(dir, { recursive: true, force: true });
    if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
  });

  it("serves gRPC over TLS (ALPN h2) to a client with a certificate signed by the trusted CA", async () => {
    const kv = createClient(
      KV,
      createGrpcTransport({
        baseUrl: httpsUrl,
        nodeOptions: {
          ca: readFileSync(certs.caFile),
          cert: readFileSync(certs.memberCert),
          key: readFileSync(certs.memberKey),
        },
      }),
    );
    // The member elects itself; a put before that is refused, so retry briefly.
    let put: Awaited<ReturnType<typeof kv.put>> | undefined;
    for (let i = 0; i < 100 && put === undefined; i++) {
      put = await kv.put({ key: enc.encode("tls"), value: enc.encode("yes") }).catch(async () => {
        await new Promise((r) => setTimeout(r, 50));
        return undefined;
      });
    }
    expect(put?.header?.revision).toBeGreaterThan(0n);
    const got = await kv.range({ key: enc.encode("tls") });
    expect(got.kvs.map((k) => dec.decode(k.value))).toEqual(["yes"]);
  });

  it("works with etcdctl given --cacert, --cert and --key", async () => {
    if (!existsSync(ETCDCTL))
      throw new Error("etcd-client is missing: run scripts/ensure-system-deps.mjs");
    const tlsArgs = [
      "--cacert",
      certs.caFile,
      "--cert",
      certs.memberCert,
      "--key",
      certs.memberKey,
    ];
    expect(await etcdctl(endpoint, [...tlsArgs, "put", "from-etcdctl", "1"])).toEqual({
      status: 0,
      out: "OK\n",
    });
    expect(await etcdctl(endpoint, [...tlsArgs, "get", "from-etcdctl"])).toEqual({
      status: 0,
      out: "from-etcdctl\n1\n",
    });
  });

  it("refuses a client without a certificate, and one that speaks plaintext, and keeps serving", async () => {
    const refused = await etcdctl(endpoint, ["--cacert", certs.caFile, "get", "tls"], "1s");
    expect(refused.status).not.toBe(0);
    await expect(httpsGet(`${httpsUrl}/health`, certs, false)).rejects.toThrow();
    const stranger = await etcdctl(
      endpoint,
      [
        "--cacert",
        certs.caFile,
        "--cert",
        certs.strangerCert,
        "--key",
        certs.strangerKey,
        "get",
        "tls",
      ],
      "1s",
    );
    expect(stranger.status).not.toBe(0);
    // Plaintext bytes on the TLS port: the connection is closed, nothing else happens.
    await new Promise<void>((resolve) => {
      const socket = connectTcp(Number(endpoint.split(":")[1]), "127.0.0.1", () =>
        socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
      );
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
    });
    expect(await httpsGet(`${httpsUrl}/health`, certs, true)).toBe(200);
  });
});

describe("client TLS material that cannot be used", () => {
  it("fails the start with an error naming the flag, before the data dir is touched", async () => {
    const certs = createTestCertificates();
    const dir = await mkdtemp(join(tmpdir(), "raftkv-client-tls-bad-"));
    try {
      const [client, peer] = await freePorts(2);
      const start = (cert: string, key: string) =>
        RaftKvMember.start(
          loadConfig(
            [
              "--data-dir",
              join(dir, "data"),
              "--listen-client-urls",
              `https://127.0.0.1:${client}`,
              "--listen-peer-urls",
              `http://127.0.0.1:${peer}`,
              "--cert-file",
              cert,
              "--key-file",
              key,
            ],
            {},
          ),
          pino({ level: "silent" }),
        );
      await expect(start(join(dir, "missing.pem"), certs.memberKey)).rejects.toThrow(
        /^--cert-file: cannot read/,
      );
      // A key that does not belong to the certificate.
      await expect(start(certs.memberCert, certs.strangerKey)).rejects.toThrow(
        /^--cert-file: unusable with --key-file/,
      );
      expect(existsSync(join(dir, "data"))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
