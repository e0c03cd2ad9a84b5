import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { RangeResponseSchema } from "@raftkv/proto/etcd";
import { freePorts } from "@raftkv/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PATH } from "./test-support/process-cluster.js";

const ETCD = "/usr/bin/etcd";
const ETCDCTL = "/usr/bin/etcdctl";

interface Server {
  endpoint: string;
  process: ChildProcess;
}

async function startServer(command: string[], endpoint: string): Promise<Server> {
  const child = spawn(command[0]!, command.slice(1), { stdio: "ignore" });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = spawnSync(
      ETCDCTL,
      ["--endpoints", endpoint, "--command-timeout=2s", "endpoint", "health"],
      {
        env: { ...process.env, ETCDCTL_API: "3" },
        encoding: "utf8",
      },
    );
    if (r.status === 0) return { endpoint, process: child };
    if (child.exitCode !== null)
      throw new Error(`${command.join(" ")} exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new Error(`${command[0]} did not become healthy at ${endpoint}`);
}

interface Result {
  code: number | null;
  out: string;
}

function etcdctl(endpoint: string, args: string[], stdin?: string): Result {
  const binary = args.includes("protobuf");
  const r = spawnSync(ETCDCTL, ["--endpoints", endpoint, ...args], {
    env: { ...process.env, ETCDCTL_API: "3" },
    input: stdin,
    encoding: binary ? "latin1" : "utf8",
    timeout: 30_000,
  });
  const out = binary ? normalizeProtobuf(r.stdout) : normalize(`${r.stdout}${r.stderr}`, endpoint);
  return { code: r.status, out };
}

/**
 * What legitimately differs between two servers: their addresses, member and cluster
 * ids, Raft terms and indexes (etcd's log also holds its membership entries), database
 * sizes, versions and latencies. Everything else — keys, values, revisions, versions,
 * counts, errors — must be identical.
 */
function normalize(text: string, endpoint: string): string {
  return text
    .replaceAll(endpoint, "ENDPOINT")
    .replace(/^\{"level":"warn".*\n/gm, "")
    .replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":N')
    .replace(/^"(ClusterID|MemberID|RaftTerm)" : \d+$/gm, '"$1" : N')
    .replace(/took = [\d.]+[µnm]?s/g, "took = T")
    .replace(
      /^ENDPOINT, [0-9a-f]+, [^,]+, [^,]+, (true|false), (true|false), \d+, \d+, \d+, (.*)$/gm,
      "ENDPOINT, ID, VERSION, SIZE, $1, $2, TERM, INDEX, INDEX, $3",
    );
}

/** The protobuf output is a RangeResponse; compare it with the header's ids and term zeroed. */
function normalizeProtobuf(out: string): string {
  const response = fromBinary(RangeResponseSchema, Buffer.from(out, "latin1"));
  if (response.header) {
    response.header.clusterId = 0n;
    response.header.memberId = 0n;
    response.header.raftTerm = 0n;
  }
  return toJsonString(RangeResponseSchema, response);
}

const script: Array<{ args: string[]; stdin?: string }> = [
  { args: ["put", "foo", "bar"] },
  { args: ["put", "foo1", "bar1"] },
  { args: ["put", "foo2", "bar2"] },
  { args: ["put", "foo3", "bar3"] },
  { args: ["put", "zoo", "z"] },
  { args: ["put", "foo", "bar-again", "--prev-kv"] },
  { args: ["get", "foo"] },
  { args: ["get", "foo", "-w", "json"] },
  { args: ["get", "--prefix", "foo"] },
  { args: ["get", "foo", "--rev=2"] },
  { args: ["get", "--prefix", "foo", "--limit=2"] },
  { args: ["get", "--prefix", "foo", "--limit=2", "-w", "json"] },
  { args: ["get", "--prefix", "foo", "--sort-by=MODIFY", "--order=DESCEND"] },
  { args: ["get", "--prefix", "foo", "--sort-by=VALUE", "--order=ASCEND"] },
  { args: ["get", "--prefix", "foo", "--keys-only"] },
  { args: ["get", "--prefix", "foo", "--count-only", "-w", "json"] },
  { args: ["get", "--from-key", "foo2"] },
  { args: ["get", "", "--prefix", "--keys-only"] },
  { args: ["get", "nothing"] },
  { args: ["get", "foo", "--print-value-only"] },
  { args: ["get", "foo", "-w", "fields"] },
  { args: ["get", "foo", "-w", "protobuf"] },
  { args: ["del", "foo3"] },
  { args: ["del", "--prefix", "--prev-kv", "foo"] },
  { args: ["del", "nothing"] },
  { args: ["txn"], stdin: 'value("zoo") = "z"\n\nput zoo z2\n\nput zoo z3\n\n' },
  { args: ["txn", "-w", "json"], stdin: 'mod("zoo") > "0"\n\nget zoo\n\ndel zoo\n\n' },
  { args: ["txn"], stdin: 'version("missing") > "0"\n\nput a 1\n\nput b 2\n\n' },
  { args: ["put", "a", "3"] },
  { args: ["compaction", "3"] },
  { args: ["get", "foo", "--rev=2"] },
  { args: ["compaction", "2"] },
  { args: ["get", "a", "--rev=99"] },
  { args: ["put", "", "x"] },
  { args: ["endpoint", "status"] },
  { args: ["endpoint", "health"] },
];

describe("etcdctl 3.4 against raftkv prints what it prints against etcd 3.4", () => {
  const ready = existsSync(ETCD) && existsSync(ETCDCTL);
  let root = "";
  const servers: Server[] = [];
  const outputs: { etcd: Result[]; raftkv: Result[] } = { etcd: [], raftkv: [] };

  beforeAll(async () => {
    if (!ready)
      throw new Error(
        "etcd-server and etcd-client are missing: run scripts/ensure-system-deps.mjs",
      );
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: build the server first`);
    root = await mkdtemp(join(tmpdir(), "raftkv-etcdctl-"));
    const [ec, ep, rc, rp] = await freePorts(4);
    const etcd = await startServer(
      [
        ETCD,
        "--name",
        "e",
        "--data-dir",
        join(root, "etcd"),
        "--listen-client-urls",
        `http://127.0.0.1:${ec}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${ec}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${ep}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${ep}`,
        "--initial-cluster",
        `e=http://127.0.0.1:${ep}`,
      ],
      `127.0.0.1:${ec}`,
    );
    servers.push(etcd);
    const raftkv = await startServer(
      [
        process.execPath,
        CLI_PATH,
        "--name",
        "r",
        "--data-dir",
        join(root, "raftkv"),
        "--listen-client-urls",
        `http://127.0.0.1:${rc}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${rp}`,
        "--log-level",
        "warn",
      ],
      `127.0.0.1:${rc}`,
    );
    servers.push(raftkv);
    for (const step of script) {
      outputs.etcd.push(etcdctl(etcd.endpoint, step.args, step.stdin));
      outputs.raftkv.push(etcdctl(raftkv.endpoint, step.args, step.stdin));
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) s.process.kill("SIGKILL");
    if (root) await rm(root, { recursive: true, force: true });
  });

  for (const [i, step] of script.entries()) {
    it(`etcdctl ${step.args.join(" ")}${step.stdin ? " (stdin)" : ""}`, () => {
      expect(outputs.raftkv[i]).toEqual(outputs.etcd[i]);
    });
  }
});
