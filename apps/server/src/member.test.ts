import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Cluster, KV, Maintenance } from "@raftkv/proto/etcd";
import { freePorts } from "@raftkv/test-support";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { RaftKvMember } from "./member.js";

const enc = new TextEncoder();

describe("a single raftkv member", () => {
  let dir: string;
  let member: RaftKvMember;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "raftkv-member-"));
    const [client, peer] = await freePorts(2);
    url = `http://127.0.0.1:${client}`;
    const config = loadConfig(
      [
        "--data-dir",
        join(dir, "data"),
        "--listen-client-urls",
        url,
        "--listen-peer-urls",
        `http://127.0.0.1:${peer}`,
      ],
      {},
    );
    member = await RaftKvMember.start(config, pino({ level: "silent" }));
    const status = createClient(Maintenance, createGrpcTransport({ baseUrl: url }));
    for (let i = 0; i < 200 && (await status.status({})).leader === 0n; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await member?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("exports Prometheus metrics for leadership, disk saves and fsyncs, applies, proposals and gRPC calls", async () => {
    const kv = createClient(KV, createGrpcTransport({ baseUrl: url }));
    await kv.put({ key: enc.encode("m"), value: enc.encode("1") });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^etcd_server_has_leader 1$/m);
    expect(text).toMatch(/^etcd_server_is_leader 1$/m);
    expect(text).toMatch(/^raftkv_disk_raft_save_duration_seconds_count\{sync="true"\} [1-9]/m);
    expect(text).toMatch(/^wal_fsync_duration_seconds_count\{member="[0-9]+"\} [1-9]/m);
    expect(text).toMatch(/^raftkv_server_apply_duration_seconds_count [1-9]/m);
    expect(text).toMatch(/^raftkv_server_proposal_duration_seconds_count\{outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^grpc_server_handled_total\{grpc_method="Put",grpc_code="OK"\} [1-9]/m);
  });

  it("answers /health like etcd and /readyz once it has a leader", async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ health: "true", reason: "" });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it("answers a service it does not serve with UNIMPLEMENTED", async () => {
    const cluster = createClient(Cluster, createGrpcTransport({ baseUrl: url }));
    const error = await cluster.memberList({}).catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.Unimplemented);
  });

  it("serves the Connect protocol with JSON on the client port", async () => {
    const res = await fetch(`${url}/etcdserverpb.KV/Range`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: Buffer.from("m").toString("base64") }),
    });
    const body = (await res.json()) as { kvs: Array<{ value: string }> };
    expect(Buffer.from(body.kvs[0]!.value, "base64").toString()).toBe("1");
  });

  it("refuses a write larger than --max-request-bytes with etcd's error", async () => {
    const kv = createClient(KV, createGrpcTransport({ baseUrl: url }));
    const error = await kv
      .put({ key: enc.encode("big"), value: new Uint8Array(1.5 * 1024 * 1024 + 1) })
      .catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toBe("etcdserver: request is too large");
  });
});

describe("a restarted member", () => {
  it("replays only the log after the store's applied index, and keeps the data", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-restart-"));
    const [client, peer] = await freePorts(2);
    const url = `http://127.0.0.1:${client}`;
    const argv = [
      "--data-dir",
      join(dir, "data"),
      "--listen-client-urls",
      url,
      "--listen-peer-urls",
      `http://127.0.0.1:${peer}`,
    ];
    const waitForLeader = async (): Promise<void> => {
      const status = createClient(Maintenance, createGrpcTransport({ baseUrl: url }));
      for (let i = 0; i < 400 && (await status.status({})).leader === 0n; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const appliedEntries = async (): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(
        /^raftkv_mvcc_applied_entries_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN,
      );
    };
    try {
      let member = await RaftKvMember.start(loadConfig(argv, {}), pino({ level: "silent" }));
      await waitForLeader();
      const kv = () => createClient(KV, createGrpcTransport({ baseUrl: url }));
      for (let i = 0; i < 50; i++)
        await kv().put({ key: enc.encode(`r${i}`), value: enc.encode(String(i)) });
      expect(await appliedEntries()).toBeGreaterThanOrEqual(50);
      await member.close();

      member = await RaftKvMember.start(loadConfig(argv, {}), pino({ level: "silent" }));
      try {
        await waitForLeader();
        const res = await kv().range({ key: enc.encode("r49") });
        expect(new TextDecoder().decode(res.kvs[0]?.value)).toBe("49");
        // Only what came after the stored applied index (the new term's empty entry) was applied again.
        expect(await appliedEntries()).toBeLessThan(5);
      } finally {
        await member.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
